import Foundation
import KimiConstraints
import KimiJSON
import KimiTokenizer
import TestSupport
import Testing

/// The constraint's masks against the constraint's own byte-by-byte advance (the scalar
/// reference: a token is allowed exactly when its bytes can be taken one at a time), and its
/// verdicts on the corpus's instances against Python's `jsonschema`
/// (Tests/Fixtures/schemas, Scripts/make_schema_fixtures.py).
@Suite struct ConstraintTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let tokenizer = try! Tokenizer(directory: fixtures.appendingPathComponent("checkpoints/kimi-mini").path)
    static let vocabulary = ConstraintVocabulary(tokenizer: tokenizer)
    static let end = tokenizer.specialId("<|im_end|>")!

    static func json(_ path: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: fixtures.appendingPathComponent(path))))
    }

    static func constraint(_ schema: JSONValue) throws -> Constraint {
        let grammar = Grammar(
            content: .json(try CompiledSchema.compile(schema, strict: true)), calls: .forbidden, functions: [],
            parallel: false, firstIndex: 0)
        return Constraint(grammar, vocabulary: vocabulary, tokenizer: tokenizer, endTokens: [end])
    }

    /// Walks `text`'s tokens and the end token; true when every one is taken.
    static func accepts(_ c: Constraint, _ text: String, checkMasks: Bool = false) -> Bool {
        var c = c
        for id in tokenizer.encodeOrdinary(text) + [end] {
            if checkMasks {
                guard case let .only(mask) = c.allowed(), mask.contains(id) else { return false }
            }
            guard c.accept(id) else { return false }
        }
        return true
    }

    /// The mask equals the set of tokens `accept` takes, at every step of `text`.
    static func checkMasks(_ c: Constraint, along text: String) -> Bool {
        var c = c
        for id in tokenizer.encodeOrdinary(text) {
            guard case let .only(mask) = c.allowed() else { return false }
            for t in 0..<vocabulary.size {
                var probe = c
                if mask.contains(t) != probe.accept(t) {
                    Issue.record(
                        "token \(t) (\(tokenizer.decode([t]).debugDescription)): mask says \(mask.contains(t)) after a prefix of \(text.prefix(80).debugDescription)"
                    )
                    return false
                }
            }
            guard c.accept(id) else { return false }
        }
        return true
    }

    /// Schemas and documents valid under them (checked with `jsonschema`), along which masks
    /// are compared with the reference at every step.
    static let walks: [(String, [String])] = [
        (
            #"{"type":"object","properties":{"city":{"type":"string"},"unit":{"enum":["c","f"]},"days":{"type":"integer","minimum":1,"maximum":14},"tags":{"type":"array","items":{"type":"string","maxLength":5},"maxItems":3},"when":{"type":"string","format":"date"},"opt":{"anyOf":[{"type":"number"},{"type":"null"}]}},"required":["city","unit"],"additionalProperties":false}"#,
            [
                #"{"city": "Beijing", "unit": "c"}"#,
                #"{"unit":"f","city":"B\u00e9\ud83d\ude00 é","days":14,"tags":["a","bcdef"],"when":"2024-02-29","opt":-1.5e3}"#,
            ]
        ),
        (
            ##"{"$defs":{"n":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/n"},{"type":"null"}]}},"required":["v","next"]}},"$ref":"#/$defs/n"}"##,
            [#"{"v": 1, "next": {"v": -20, "next": null}}"#]
        ),
        (#"{"type":"array","items":{"type":"string","pattern":"^[a-z]+-[0-9]{2}$"},"minItems":1}"#, [#"["ab-12", "x-00"]"#]),
    ]

    @Test("masks equal the byte-by-byte reference at every step of valid documents")
    func masksMatchReference() throws {
        for (schema, documents) in Self.walks {
            let c = try Self.constraint(try JSONParser.parse(Array(schema.utf8)))
            for d in documents {
                #expect(Self.checkMasks(c, along: d), "\(d)")
                #expect(Self.accepts(c, d, checkMasks: true), "\(d)")
            }
        }
    }

    @Test("every valid instance of the corpus is taken token by token; every invalid one is refused")
    func corpusInstances() throws {
        let corpus = try Self.json("schemas/corpus.json")["schemas"]!.array!
        let instances = try Self.json("schemas/instances.json")["schemas"]!.array!
        #expect(corpus.count >= 100 && corpus.count == instances.count)
        for (entry, inst) in zip(corpus, instances) {
            let name = entry["name"]!.string!
            #expect(inst["name"]!.string! == name)
            let c = try Self.constraint(entry["schema"]!)
            let valid = inst["valid"]!.array!
            #expect(valid.count >= 40, "\(name)")
            for (i, text) in valid.enumerated() where !Self.accepts(c, text.string!, checkMasks: i < 2) {
                Issue.record("\(name): valid instance refused: \(text.string!.prefix(300))")
            }
            for text in inst["invalid"]!.array! where Self.accepts(c, text.string!) {
                Issue.record("\(name): invalid instance taken: \(text.string!.prefix(300))")
            }
        }
    }

    /// Whether `text` is in the form the engine writes a bounded number in: no exponent, at most
    /// 40 digits in the integer part and in the fraction, and a fraction when the integer is
    /// beyond 2^53 (a validator reads an integer text exactly, not as a double).
    static func inBoundedForm(_ text: String) -> Bool {
        guard text.wholeMatch(of: try! Regex(#"-?(0|[1-9][0-9]{0,39})(\.[0-9]{1,40})?"#)) != nil else { return false }
        let digits = text.drop { $0 == "-" }
        return text.contains(".") || digits.count < 16 || (digits.count == 16 && digits <= "9007199254740992")
    }

    @Test(
        "bounded numbers: texts next to each bound, where the double's rounding decides, are taken exactly when jsonschema validates them")
    func numberBounds() throws {
        var verdicts = [0, 0]
        for case_ in try Self.json("schemas/numbers.json")["cases"]!.array! {
            let c = try Self.constraint(case_["schema"]!)
            var taken = [0, 0]
            for pair in case_["texts"]!.array! {
                let text = pair.array![0].string!, reference = pair.array![1] == .bool(true)
                guard Self.inBoundedForm(text) else {
                    #expect(!Self.accepts(c, text), "\(JSONWriter().string(case_["schema"]!)): \(text) is not in the written form")
                    continue
                }
                taken[reference ? 1 : 0] += 1
                #expect(Self.accepts(c, text) == reference, "\(JSONWriter().string(case_["schema"]!)): \(text) (jsonschema: \(reference))")
            }
            #expect(taken[0] > 0 && taken[1] > 0, "\(JSONWriter().string(case_["schema"]!))")
            verdicts = zip(verdicts, taken).map { $0 + $1 }
        }
        #expect(verdicts[0] >= 1000 && verdicts[1] >= 1000, "\(verdicts)")
    }

    @Test("bounded numbers: from any prefix of a text near a bound the masks always lead to an end")
    func numberBoundsHaveNoDeadEnds() throws {
        var random = SplitMix(seed: 28)
        for case_ in try Self.json("schemas/numbers.json")["cases"]!.array! {
            let c = try Self.constraint(case_["schema"]!)
            for pair in case_["texts"]!.array!.prefix(200) {
                var walk = c
                // Follow the text while it is allowed, then take allowed tokens at random.
                for id in Self.tokenizer.encodeOrdinary(pair.array![0].string!) {
                    guard case let .only(mask) = walk.allowed(), mask.contains(id) else { break }
                    _ = walk.accept(id)
                }
                var ended = false
                for _ in 0..<300 where !ended {
                    guard case let .only(mask) = walk.allowed() else { Issue.record("unconstrained"); break }
                    let ids = mask.ids
                    guard let id = ids.randomElement(using: &random) else {
                        Issue.record("dead end after a prefix of \(pair.array![0].string!) under \(JSONWriter().string(case_["schema"]!))")
                        break
                    }
                    let taken = walk.accept(id)
                    #expect(taken)
                    ended = id == Self.end
                }
            }
        }
    }

    @Test("a keyword the engine cannot enforce is refused under strict and ignored otherwise")
    func strictness() throws {
        let schema = try JSONParser.parse(Array(#"{"type":"object","properties":{"n":{"type":"integer","multipleOf":3}}}"#.utf8))
        #expect(throws: SchemaError.self) { try CompiledSchema.compile(schema, strict: true) }
        let c = try Self.constraint(try JSONParser.parse(Array(#"{"type":"object","properties":{"n":{"type":"integer"}}}"#.utf8)))
        #expect(Self.accepts(c, #"{"n": 4}"#))
        #expect(try CompiledSchema.compile(schema, strict: false).rootIsObject)
    }

    @Test("tool calls: only declared names with the running index, arguments under their schema, the section closed")
    func toolSection() throws {
        let params = try CompiledSchema.compile(
            try JSONParser.parse(
                Array(#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],"additionalProperties":false}"#.utf8)),
            strict: true)
        let grammar = Grammar(
            content: .text, calls: .allowed, functions: [("get_weather", params), ("get_time", .anyObject)],
            parallel: true, firstIndex: 2)
        let c = Constraint(grammar, vocabulary: Self.vocabulary, tokenizer: Self.tokenizer, endTokens: [Self.end])
        func walk(_ pieces: [OutputPiece]) -> Bool {
            var c = c
            return (Self.tokenizer.encode(pieces: pieces) + [Self.end]).allSatisfy { c.accept($0) }
        }
        let call = { (id: String, args: String) -> [OutputPiece] in
            [.marker(.callBegin), .text(id), .marker(.argumentBegin), .text(args), .marker(.callEnd)]
        }
        #expect(
            walk(
                [.text("Checking."), .marker(.sectionBegin)] + call("functions.get_weather:2", #"{"city": "Lima"}"#)
                    + call("functions.get_time:3", "{}") + [.marker(.sectionEnd)]))
        #expect(!walk([.marker(.sectionBegin)] + call("functions.get_weather:0", #"{"city": "Lima"}"#) + [.marker(.sectionEnd)]))
        #expect(!walk([.marker(.sectionBegin)] + call("functions.add_weather:2", #"{"city": "Lima"}"#) + [.marker(.sectionEnd)]))
        #expect(!walk([.marker(.sectionBegin)] + call("functions.get_weather:2", #"{"city": How can I"}"#) + [.marker(.sectionEnd)]))
        #expect(!walk([.marker(.sectionBegin)] + call("functions.get_weather:2", #"{"town": "Lima"}"#) + [.marker(.sectionEnd)]))
        #expect(!walk([.marker(.sectionBegin)] + call("functions.get_weather:2", #"{"city": "Lima"}"#)))
        #expect(!walk([.marker(.sectionBegin), .marker(.sectionEnd)]))
    }
}
