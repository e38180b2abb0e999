import ArgumentParser
import Foundation
import KimiConstraints
import KimiJSON
import KimiTokenizer

/// `kimi-serve constrain`: walks the constraint of a JSON Schema (or of one tool's call) over a
/// document's tokens as the model would emit them, computing the full mask at every step.
struct ConstrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "constrain",
        abstract: "Check a JSON document on standard input against a schema's token-level constraint.",
        discussion: """
            Tokenizes standard input as the model would write it and walks the constraint over its tokens, computing \
            the allowed-token mask over the whole vocabulary at each step. Exit 0 when every token is allowed and the \
            document may end there; exit 1 naming the first rejected byte offset and token; exit 2 when the schema \
            cannot be compiled. With --tool, FILE holds a `tools` array (OpenAI's shape) and standard input the \
            arguments of a call to NAME: the walk covers the whole tool-call section.
            """)

    @Option(name: .long, help: "Checkpoint directory holding tiktoken.model and tokenizer_config.json, or \"demo\".")
    var model: String

    @Option(name: .long, help: "A JSON Schema file (with --tool: a file with a `tools` array).")
    var schema: String

    @Option(name: .long, help: "Walk a call of this tool: standard input is its arguments.")
    var tool: String?

    @Flag(name: .long, help: "Refuse keywords the engine cannot enforce (as strict: true does).")
    var strict = false

    @Flag(name: .long, help: "Print the compile time and per-token mask timings as one JSON object.")
    var bench = false

    @Flag(
        name: .long,
        help: "Each line of standard input is a document of its own, walked in turn (one process, one mask cache, as in a server).")
    var eachLine = false

    @Flag(name: .long, help: "Print, before each token, one JSON line with the allowed token ids (for comparison with other engines).")
    var dumpMasks = false

    func run() throws {
        let tokenizer: Tokenizer
        let schemaJSON: JSONValue
        do {
            tokenizer = try Tokenizer(directory: try checkpointDirectory(model).path)
            schemaJSON = try JSONParser.parse([UInt8](try Data(contentsOf: URL(fileURLWithPath: schema))))
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }
        let input = [UInt8](readStandardInput())
        let documents = eachLine ? input.split(separator: UInt8(ascii: "\n")).map(Array.init) : [input]
        let vocabulary = ConstraintVocabulary(tokenizer: tokenizer)
        let end = tokenizer.specialId("<|im_end|>") ?? tokenizer.vocabSize - 1

        // The grammar, and the token ids the model would write under it.
        var compileSeconds: [Double] = []
        func compile(_ s: JSONValue) throws -> CompiledSchema {
            var compiled: CompiledSchema!
            for _ in 0..<(bench ? 5 : 1) {
                let t0 = DispatchTime.now().uptimeNanoseconds
                compiled = try CompiledSchema.compile(s, strict: strict)
                compileSeconds.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
            }
            return compiled
        }
        let grammar: Grammar
        do {
            if let tool {
                let list = schemaJSON.array ?? schemaJSON["tools"]?.array ?? [schemaJSON]
                var functions: [(name: String, parameters: CompiledSchema)] = []
                for t in list {
                    guard let f = t["function"], let name = f["name"]?.string else {
                        throw ValidationError("every tool needs function.name")
                    }
                    let parameters = f["parameters"].flatMap { $0.isNull ? nil : $0 }
                    functions.append((name, try parameters.map(compile) ?? .anyObject))
                }
                guard functions.contains(where: { $0.name == tool }) else { throw ValidationError("no tool named '\(tool)' in \(schema)") }
                grammar = Grammar(content: .text, calls: .allowed, functions: functions, parallel: true, firstIndex: 0)
            } else {
                grammar = Grammar(content: .json(try compile(schemaJSON)), calls: .forbidden, functions: [], parallel: false, firstIndex: 0)
            }
        } catch {
            printError("error: \(error)")
            throw ExitCode(2)
        }

        var timings: [Double] = []
        /// Walks one document's tokens (as the model would write them, then the end token).
        func walk(_ document: [UInt8], number: Int) throws {
            let text = String(decoding: document, as: UTF8.self)
            let pieces: [OutputPiece] =
                tool.map {
                    [
                        .marker(.sectionBegin), .marker(.callBegin), .text("functions.\($0):0"),
                        .marker(.argumentBegin), .text(text), .marker(.callEnd), .marker(.sectionEnd),
                    ]
                } ?? [.text(text)]
            var constraint = Constraint(grammar, vocabulary: vocabulary, tokenizer: tokenizer, endTokens: [end])
            var offset = 0  // bytes of the output before the current token
            for (i, id) in (tokenizer.encode(pieces: pieces) + [end]).enumerated() {
                let t0 = DispatchTime.now().uptimeNanoseconds
                let ok: Bool
                let allowed = constraint.allowed()
                switch allowed {
                case let .allExcept(banned): ok = !banned.contains(id)
                case let .only(mask): ok = mask.contains(id)
                }
                if dumpMasks {
                    let ids: [Int]
                    switch allowed {
                    case let .allExcept(banned): ids = (0..<vocabulary.size).filter { !banned.contains($0) }
                    case let .only(mask): ids = mask.ids
                    }
                    writeStandardOutput(#"{"document":\#(number),"step":\#(i),"token":\#(id),"allowed":\#(jsonArray(ids))}"# + "\n")
                }
                let accepted = ok && constraint.accept(id)
                timings.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e3)
                let bytes = tokenizer.bytes(of: id).map(Array.init) ?? []
                guard accepted else {
                    let what =
                        id == end
                        ? "<|im_end|> (the document is incomplete)"
                        : id < vocabulary.ordinary
                            ? JSONWriter().string(.string(String(decoding: bytes, as: UTF8.self))) : "a special token"
                    printError(
                        (eachLine ? "document \(number): " : "")
                            + "rejected at byte offset \(offset + (constraint.firstRejectedByte(id) ?? 0)): "
                            + "token \(i) (id \(id), \(what))" + (ok ? " [mask and advance disagree]" : ""))
                    throw ExitCode(1)
                }
                offset += id < vocabulary.ordinary ? bytes.count : 0
            }
        }
        for (d, document) in documents.enumerated() { try walk(document, number: d + 1) }
        if bench {
            let sorted = timings.sorted()
            func pct(_ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            let report: JSONValue = .object(
                JSONObject([
                    "tokens": JSONValue(timings.count), "documents": JSONValue(documents.count), "vocabulary": JSONValue(vocabulary.size),
                    "compile_ms": JSONValue(compileSeconds.sorted()[compileSeconds.count / 2] * 1000),
                    "per_token_us": .object(
                        JSONObject(["median": JSONValue(pct(0.5)), "p99": JSONValue(pct(0.99)), "max": JSONValue(sorted.last!)])),
                    "samples_us": .array(timings.map { JSONValue(($0 * 10).rounded() / 10) }),
                ]))
            writeStandardOutput(JSONWriter().string(report) + "\n")
        }
    }
}
