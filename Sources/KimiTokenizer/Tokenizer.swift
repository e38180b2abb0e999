import Foundation
import KimiJSON

/// Kimi's tiktoken tokenizer: mergeable ranks from `tiktoken.model`, 256 special ids
/// right after them (names from `tokenizer_config.json`, `<|reserved_token_N|>` for the rest),
/// Kimi's pre-tokenizer, byte-pair merging, and tokenization_kimi.py's long-input rule.
public final class Tokenizer: Sendable {
    public static let specialCount = 256
    /// tokenization_kimi.py: text is encoded in pieces of at most this many characters …
    public static let maxEncodeChars = 400_000
    /// … each cut so no run of whitespace or of non-whitespace exceeds this many characters.
    public static let maxRunChars = 25_000

    let ranks: RankTable
    /// Special token text → id, and id - ranks.count → text.
    let specialIds: [String: Int]
    let specialTexts: [String]
    /// Special ids that are not text: those marked `special` in tokenizer_config.json (such as
    /// <|im_end|>) and the unnamed reserved ones. The tool-call markers are marked not special
    /// (Hugging Face's skip_special_tokens keeps them); see `toolCallMarker(_:)`.
    public let controlIds: Set<Int>
    /// (256) byte → candidate special texts starting with it, longest first.
    private let specialsByFirstByte: [[[UInt8]]]

    public var mergeableCount: Int { ranks.count }
    public var vocabSize: Int { ranks.count + Self.specialCount }

    /// Loads `tiktoken.model` and `tokenizer_config.json` from a checkpoint directory and checks
    /// the vocabulary size against its `config.json` when there is one.
    public convenience init(directory: String) throws {
        let rankPath = (directory as NSString).appendingPathComponent("tiktoken.model")
        guard let rankData = FileManager.default.contents(atPath: rankPath) else { throw TokenizerError.missingFile(rankPath) }
        let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
        guard let configData = FileManager.default.contents(atPath: configPath) else { throw TokenizerError.missingFile(configPath) }
        try self.init(tiktokenModel: [UInt8](rankData), tokenizerConfig: [UInt8](configData))
        let modelConfig = (directory as NSString).appendingPathComponent("config.json")
        if let data = FileManager.default.contents(atPath: modelConfig),
            let vocab = try? JSONParser.parse([UInt8](data))["vocab_size"]?.int, vocab != vocabSize
        {
            throw TokenizerError.vocabSizeMismatch(tokenizer: vocabSize, config: vocab)
        }
    }

    public init(tiktokenModel: [UInt8], tokenizerConfig: [UInt8]) throws {
        ranks = try Self.parseRanks(tiktokenModel)
        let n = ranks.count
        let config: JSONValue
        do { config = try JSONParser.parse(tokenizerConfig) } catch {
            throw TokenizerError.invalidConfig(file: "tokenizer_config.json", reason: "not valid JSON: \(error)")
        }
        var texts = (0..<Self.specialCount).map { "<|reserved_token_\(n + $0)|>" }
        var control = Set(n..<n + Self.specialCount)
        if let decoder = config["added_tokens_decoder"]?.object {
            for (key, entry) in decoder {
                guard let id = Int(key), id >= n, id < n + Self.specialCount, let content = entry["content"]?.string else {
                    throw TokenizerError.invalidConfig(
                        file: "tokenizer_config.json",
                        reason:
                            "added_tokens_decoder[\"\(key)\"] is not a token of the \(Self.specialCount) special ids after the \(n) ranks")
                }
                texts[id - n] = content
                if entry["special"]?.bool == false { control.remove(id) }
            }
        }
        var ids: [String: Int] = [:]
        for (i, text) in texts.enumerated() where ids[text] == nil { ids[text] = n + i }
        specialIds = ids
        specialTexts = texts
        controlIds = control
        var byFirst = [[[UInt8]]](repeating: [], count: 256)
        for text in ids.keys where !text.isEmpty { byFirst[Int(text.utf8.first!)].append(Array(text.utf8)) }
        specialsByFirstByte = byFirst.map { $0.sorted { $0.count > $1.count } }
    }

    /// `tiktoken.model`: one `base64 rank` line per token, ranks 0, 1, 2, … in order.
    static func parseRanks(_ data: [UInt8]) throws -> RankTable {
        var lines = 0
        for b in data where b == 0x0A { lines += 1 }
        var table = RankTable(capacity: lines + 1)
        var decoded: [UInt8] = []
        var lineNumber = 0
        var i = 0
        while i < data.count {
            var end = i
            while end < data.count && data[end] != 0x0A { end += 1 }
            lineNumber += 1
            var lineEnd = end
            if lineEnd > i && data[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            defer { i = end + 1 }
            if lineEnd == i { continue }
            guard let space = data[i..<lineEnd].firstIndex(of: 0x20),
                let rank = Int(String(decoding: data[(space + 1)..<lineEnd], as: UTF8.self))
            else {
                throw TokenizerError.invalidRankLine(file: "tiktoken.model", line: lineNumber, reason: "expected \"<base64> <rank>\"")
            }
            guard rank == table.count else {
                throw TokenizerError.invalidRankLine(
                    file: "tiktoken.model", line: lineNumber,
                    reason: "rank \(rank) where \(table.count) was expected (ranks must be 0, 1, 2, … in order)")
            }
            guard Base64.decode(data[i..<space], into: &decoded), !decoded.isEmpty else {
                throw TokenizerError.invalidRankLine(file: "tiktoken.model", line: lineNumber, reason: "invalid base64 token")
            }
            let added = decoded.withUnsafeBufferPointer { table.append($0) }
            guard added else {
                throw TokenizerError.invalidRankLine(
                    file: "tiktoken.model", line: lineNumber, reason: "the token of rank \(rank) repeats an earlier token")
            }
        }
        return table
    }

    // MARK: - Encoding

    /// tiktoken's `encode(text, allowed_special="all")` with Kimi's chunking: any special-token
    /// text becomes its id (Hugging Face's behaviour for Kimi).
    public func encode(_ text: String) -> [Int] { encode(text, allowSpecial: true) }

    /// tiktoken's `encode(text, disallowed_special=())` with Kimi's chunking: special-token text
    /// stays ordinary text.
    public func encodeOrdinary(_ text: String) -> [Int] { encode(text, allowSpecial: false) }

    public func encode(_ text: String, allowSpecial: Bool) -> [Int] {
        var text = text
        var out: [Int] = []
        out.reserveCapacity(text.utf8.count / 3)
        text.withUTF8 { bytes in
            Self.forEachChunk(bytes) { chunk in
                if allowSpecial { encodeWithSpecials(chunk, into: &out) } else { encodeOrdinary(chunk, into: &out) }
            }
        }
        return out
    }

    /// Ordinary encoding of a UTF-8 buffer with no chunking (a text run of a rendered prompt).
    func encodeOrdinary(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        let bpe = BytePairEncoder(ranks: ranks)
        PreTokenizer.forEachPiece(bytes) { piece in
            bpe.encode(bytes.baseAddress! + piece.lowerBound, piece.count, into: &out)
        }
    }

    private func encodeWithSpecials(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        var start = 0, i = 0
        while i < bytes.count {
            let candidates = specialsByFirstByte[Int(bytes[i])]
            if !candidates.isEmpty,
                let match = candidates.first(where: { i + $0.count <= bytes.count && memcmp(bytes.baseAddress! + i, $0, $0.count) == 0 })
            {
                encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start..<i]), into: &out)
                out.append(specialIds[String(decoding: match, as: UTF8.self)]!)
                i += match.count
                start = i
            } else {
                i += 1
            }
        }
        encodeOrdinary(UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]), into: &out)
    }

    /// tokenization_kimi.py's chunking: 400 000-character pieces, each cut so that no run of
    /// `str.isspace()` characters or of other characters is longer than 25 000 characters.
    static func forEachChunk(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let classes = CharacterClasses.shared
        var sliceStart = 0, i = 0, chars = 0
        var runLength = 0, runIsSpace = false
        while i < bytes.count {
            if chars == maxEncodeChars {  // a new 400 000-character piece starts a new run count
                body(UnsafeBufferPointer(rebasing: bytes[sliceStart..<i]))
                sliceStart = i
                chars = 0
            }
            let (scalar, length) = utf8Scalar(bytes, i)
            let isSpace = classes.flags(scalar) & CharacterClasses.pythonSpace != 0
            if chars == 0 {
                runIsSpace = isSpace
                runLength = 1
            } else if isSpace != runIsSpace {
                runIsSpace = isSpace
                runLength = 1
            } else {
                runLength += 1
                if runLength > maxRunChars {
                    body(UnsafeBufferPointer(rebasing: bytes[sliceStart..<i]))
                    sliceStart = i
                    runLength = 1
                }
            }
            chars += 1
            i += length
        }
        body(UnsafeBufferPointer(rebasing: bytes[sliceStart..<bytes.count]))
    }

    // MARK: - Decoding

    /// The bytes of one token: its rank's bytes, or a special token's text.
    public func bytes(of id: Int) -> ArraySlice<UInt8>? {
        if id >= 0 && id < ranks.count { return ranks.bytes(id) }
        if id >= ranks.count && id < vocabSize { return ArraySlice(specialTexts[id - ranks.count].utf8) }
        return nil
    }

    /// tiktoken's decode: the tokens' bytes as UTF-8, invalid sequences replaced by U+FFFD.
    /// Ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int]) -> String {
        var bytes: [UInt8] = []
        for id in ids { if let b = self.bytes(of: id) { bytes += b } }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The id of a special token's text (e.g. "<|im_end|>").
    public func specialId(_ text: String) -> Int? { specialIds[text] }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
