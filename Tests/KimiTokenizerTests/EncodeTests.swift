import Foundation
import KimiJSON
import KimiTokenizer
import Testing

/// Token ids against tiktoken (with tokenization_kimi.py's chunking) on a multilingual corpus
/// and 1 500 random strings built from every class boundary of Kimi's pattern.
@Suite struct EncodeTests {
    static let cases = try! TokenizerFixtures.json("encode.json")["cases"]!.array!

    @Test(
        "ids equal tiktoken's on every corpus case, both modes, both vocabularies",
        arguments: ["small", "full"], ["ordinary", "special"])
    func corpus(_ vocabulary: String, _ mode: String) throws {
        let tokenizer = vocabulary == "small" ? TokenizerFixtures.small : TokenizerFixtures.full
        var mismatches: [String] = []
        for c in Self.cases {
            let text = c["text"]!.string!
            let expected = TokenizerFixtures.Expected(c[vocabulary]![mode]!)
            let ids = tokenizer.encode(text, allowSpecial: mode == "special")
            if !expected.matches(ids) { mismatches.append(c["name"]!.string!) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(Self.cases.count) differ: \(mismatches.prefix(20))")
    }

    @Test("the full-size vocabulary exercises ids above 65 535 and Kimi's real special ids")
    func fullSize() {
        let t = TokenizerFixtures.full
        #expect(t.vocabSize == 163_840)
        #expect(t.specialId("<|im_end|>") == 163_586)
        #expect(t.specialId("<|im_middle|>") == 163_601)
        #expect(t.specialId("<|reserved_token_163600|>") == 163_600)
        #expect(t.specialId("[PAD]") == 163_839)
        let ids = t.encode("<|im_user|>user<|im_middle|>The quick brown fox<|im_end|>")
        #expect(ids.first == 163_587 && ids.last == 163_586 && ids.contains { $0 > 65_535 && $0 < 163_584 })
    }

    @Test("decode inverts encode on every corpus case")
    func roundTrip() {
        for c in Self.cases {
            let text = c["text"]!.string!
            #expect(TokenizerFixtures.small.decode(TokenizerFixtures.small.encode(text)) == text, "\(c["name"]!.string!)")
        }
    }

    @Test("the incremental detokenizer streams exactly the decoded text, never half a character")
    func incremental() {
        let t = TokenizerFixtures.small
        for c in Self.cases {
            let text = c["text"]!.string!
            var stream = IncrementalDetokenizer(tokenizer: t)
            var out = ""
            for id in t.encode(text) {
                let piece = stream.append(id).text
                #expect(!piece.unicodeScalars.contains("\u{FFFD}") || text.contains("\u{FFFD}"))
                out += piece
            }
            out += stream.finish()
            #expect(out == text, "\(c["name"]!.string!)")
        }
        // Ending inside a character: held back, then U+FFFD at the very end.
        let euro = Array("€".utf8)  // three bytes, each a single-byte token
        var held = IncrementalDetokenizer(tokenizer: t)
        let firstByteToken = t.bytesToken(euro[0])!
        #expect(held.append(firstByteToken) == [])
        #expect(held.finish() == "\u{FFFD}")
        var complete = IncrementalDetokenizer(tokenizer: t)
        #expect(complete.append(t.bytesToken(euro[0])!) == [])
        #expect(complete.append(t.bytesToken(euro[1])!) == [])
        #expect(complete.append(t.bytesToken(euro[2])!) == [.text("€")])
        // An invalid byte is not held back.
        var invalid = IncrementalDetokenizer(tokenizer: t)
        #expect(invalid.append(t.bytesToken(0xFF)!) == [.text("\u{FFFD}")])
    }

    @Test("a tool-call marker's special id is a marker piece; a character it cuts becomes U+FFFD before it")
    func incrementalMarkers() {
        let t = TokenizerFixtures.small
        let callBegin = t.specialId("<|tool_call_begin|>")!
        var stream = IncrementalDetokenizer(tokenizer: t, skipping: t.controlIds)
        #expect(stream.append(t.bytesToken(Array("€".utf8)[0])!) == [])
        #expect(stream.append(callBegin) == [.text("\u{FFFD}"), .marker(.callBegin)])
        #expect(stream.append(t.specialId("<|im_end|>")!) == [] && stream.finish() == "")
        // Every marker by its special id; none by the ordinary tokens of its text.
        for marker in ToolCallMarker.allCases {
            #expect(t.toolCallMarker(t.specialId(marker.text)!) == marker)
            #expect(t.decodeOutput(t.encode(marker.text)) == [.marker(marker)])
            let ordinary = t.encodeOrdinary(marker.text)  // ASCII: one text piece per token
            #expect(ordinary.count > 1 && t.decodeOutput(ordinary) == ordinary.map { .text(t.decode([$0])) })
        }
    }

    @Test("a vocabulary that disagrees with config.json, or a broken tiktoken.model, is a clear error")
    func errors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kimi-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["tiktoken.model", "tokenizer_config.json"] {
            try FileManager.default.copyItem(atPath: TokenizerFixtures.directory + "/" + file, toPath: dir.path + "/" + file)
        }
        try Data(#"{"vocab_size": 1000}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        #expect(throws: TokenizerError.vocabSizeMismatch(tokenizer: TokenizerFixtures.small.vocabSize, config: 1000)) {
            _ = try Tokenizer(directory: dir.path)
        }
        let config = Array(#"{"added_tokens_decoder": {}}"#.utf8)
        #expect(
            throws: TokenizerError.invalidRankLine(
                file: "tiktoken.model", line: 2, reason: "rank 5 where 1 was expected (ranks must be 0, 1, 2, … in order)")
        ) {
            _ = try Tokenizer(tiktokenModel: Array("IQ== 0\nIg== 5\n".utf8), tokenizerConfig: config)
        }
        #expect(throws: TokenizerError.invalidRankLine(file: "tiktoken.model", line: 1, reason: "invalid base64 token")) {
            _ = try Tokenizer(tiktokenModel: Array("I*== 0\n".utf8), tokenizerConfig: config)
        }
        #expect(throws: TokenizerError.self) {
            _ = try Tokenizer(
                tiktokenModel: Array("IQ== 0\n".utf8), tokenizerConfig: Array(#"{"added_tokens_decoder": {"300": {"content": "x"}}}"#.utf8))
        }
    }
}

extension Tokenizer {
    /// The id of the single-byte token for `byte`.
    func bytesToken(_ byte: UInt8) -> Int? {
        (0..<mergeableCount).first { bytes(of: $0) == [byte] }
    }
}
