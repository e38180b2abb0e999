import Foundation
import KimiJSON
import KimiModel
import TestSupport

/// Paths of the committed fixtures (Tests/Fixtures) and readers for the reference outputs that
/// Scripts/make_fixtures.py wrote with transformers.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")
    static let names = ["kimi-mini", "deepseek-grouped", "plain-moe", "k2-thinking-int4", "w4a16-fp8"]

    static func checkpoint(_ name: String) -> String {
        root.appendingPathComponent("checkpoints/\(name)").path
    }

    struct Sequence {
        let prompt: [Int]
        let greedy: [Int]
        /// (prompt.count + greedy.count - 1, vocab): row i predicts token i + 1 of prompt + greedy.
        let logits: [Float]
        let vocab: Int
        /// The smallest gap between a chosen and a dropped expert (or group) score in the reference.
        let routingMargin: Double

        func row(_ i: Int) -> ArraySlice<Float> { logits[i * vocab..<(i + 1) * vocab] }
        var tokens: [Int] { prompt + greedy.dropLast() }
    }

    static func reference(_ name: String) throws -> [Sequence] {
        let dir = root.appendingPathComponent("references/\(name)")
        let json = try JSONParser.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("reference.json"))))
        let vocab = json["vocab_size"]!.int!
        return try json["sequences"]!.array!.map { s in
            let data = try Data(contentsOf: dir.appendingPathComponent(s["logits"]!.string!))
            let logits = data.withUnsafeBytes { raw in
                (0..<data.count / 4).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
            return Sequence(
                prompt: s["prompt"]!.array!.map { $0.int! }, greedy: s["greedy"]!.array!.map { $0.int! },
                logits: logits, vocab: vocab, routingMargin: s["min_routing_margin"]!.double!)
        }
    }

    static func temporaryDirectory() throws -> URL { try TemporaryDirectory.make() }

    /// Copies a fixture checkpoint to a temporary directory for tests that damage it.
    static func copy(_ name: String) throws -> URL {
        let dir = try temporaryDirectory()
        let source = URL(fileURLWithPath: checkpoint(name))
        for file in try FileManager.default.contentsOfDirectory(atPath: source.path) {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: dir.appendingPathComponent(file))
        }
        return dir
    }
}
