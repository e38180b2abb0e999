import Foundation
import KimiJSON
import KimiTokenizer

/// The tokenizer fixtures written by Scripts/make_tokenizer_fixtures.py with tiktoken and jinja2.
enum TokenizerFixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let directory = root.appendingPathComponent("tokenizer").path

    static func json(_ name: String) throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name))))
    }

    /// The vocabulary trained on the corpus (a few thousand merges).
    static let small: Tokenizer = try! Tokenizer(directory: directory)

    /// The full-size vocabulary (163 584 ranks): the script's `full_size_ranks` rule, rebuilt here
    /// from the trained ranks and the corpus pieces — bytes, filler `\u{E000}<rank>` up to 100000,
    /// the trained merges, the pieces, filler to the end.
    static let full: Tokenizer = {
        let trained = try! String(contentsOfFile: directory + "/tiktoken.model", encoding: .utf8)
            .split(separator: "\n").map { $0.split(separator: " ")[0] }
        let pieces = try! String(contentsOfFile: directory + "/fullsize-pieces.txt", encoding: .utf8)
            .split(separator: "\n").map(String.init)
        var lines: [String] = []
        func add(_ base64: some StringProtocol) { lines.append("\(base64) \(lines.count)") }
        func filler() { add(Data(("\u{E000}" + String(lines.count)).utf8).base64EncodedString()) }
        trained.prefix(256).forEach(add)
        while lines.count < 100_000 { filler() }
        trained.dropFirst(256).forEach(add)
        pieces.forEach(add)
        while lines.count < 163_584 { filler() }
        let config = try! Data(contentsOf: URL(fileURLWithPath: directory + "/tokenizer_config.json"))
        // The named specials sit at the same offsets after the ranks in both vocabularies.
        var object = try! JSONParser.parse([UInt8](config)).object!
        var decoder = JSONObject()
        for (key, value) in object["added_tokens_decoder"]!.object! {
            decoder[String(Int(key)! - trained.count + 163_584)] = value
        }
        object["added_tokens_decoder"] = .object(decoder)
        return try! Tokenizer(
            tiktokenModel: Array((lines.joined(separator: "\n") + "\n").utf8),
            tokenizerConfig: Array(JSONWriter().string(.object(object)).utf8))
    }()

    struct Expected {
        let ids: [Int]?
        let count: Int
        let hash: String?
        let head: [Int]

        init(_ v: JSONValue) {
            ids = v["ids"]?.array?.map { $0.int! }
            count = ids?.count ?? v["count"]!.int!
            hash = v["fnv1a64"]?.string
            head = v["head"]?.array?.map { $0.int! } ?? []
        }

        func matches(_ actual: [Int]) -> Bool {
            if let ids { return actual == ids }
            return actual.count == count && Array(actual.prefix(head.count)) == head && fnv1a64(actual) == hash
        }
    }

    /// FNV-1a 64 over the ids as little-endian u32, as the script hashes long cases.
    static func fnv1a64(_ ids: [Int]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in ids {
            for shift in stride(from: 0, to: 32, by: 8) {
                h = (h ^ UInt64((UInt32(id) >> UInt32(shift)) & 0xFF)) &* 0x100_0000_01b3
            }
        }
        return String(format: "%016lx", h)
    }
}
