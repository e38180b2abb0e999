import Foundation
import KimiJSON
import KimiKernels
import KimiModel
import Testing

/// kimi-serve's reading of compressed-tensors int4 checkpoints against compressed-tensors
/// itself: the fixtures' dequantized.json lists matrices that Scripts/make_fixtures.py
/// dequantised with the package's PackedQuantizationCompressor; every value must come out equal.
@Suite struct Int4UnpackingTests {
    @Test("int4 matrices unpack to compressed-tensors' dequantised values exactly", arguments: ["k2-thinking-int4", "w4a16-fp8"])
    func unpacksLikeCompressedTensors(_ name: String) throws {
        // The weights point into the checkpoint's mapped shards, which live as long as it does.
        let checkpoint = try Checkpoint(directory: Fixtures.checkpoint(name))
        defer { withExtendedLifetime(checkpoint) {} }
        let weights = try ModelWeights(checkpoint: checkpoint)
        let dir = Fixtures.root.appendingPathComponent("references/\(name)")
        let listing = try JSONParser.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("dequantized.json"))))
        let entries = try #require(listing["tensors"]?.array)
        #expect(entries.count == 2)
        for entry in entries {
            let tensor = try #require(entry["tensor"]?.string), shape = (entry["shape"]?.array ?? []).compactMap { $0.int }
            let file = try #require(entry["file"]?.string)
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            let expected = data.withUnsafeBytes { raw in
                (0..<data.count / 4).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self)))
                }
            }
            // "model.layers.L.mlp.experts.E.<proj>.weight"
            let parts = tensor.split(separator: ".")
            let layer = Int(parts[2])!, expert = Int(parts[5])!
            guard case let .moe(moe) = weights.layers[layer].ffn else {
                Issue.record("layer \(layer) is not MoE")
                continue
            }
            let mlp = moe.experts[expert]
            let matrix = parts[6] == "gate_proj" ? mlp.gate : parts[6] == "up_proj" ? mlp.up : mlp.down
            guard case .int4 = matrix.storage else {
                Issue.record("\(tensor) is not read as int4")
                continue
            }
            #expect([matrix.rows, matrix.cols] == shape)
            var row = [Float](repeating: .nan, count: matrix.cols), mismatches = 0
            for r in 0..<matrix.rows {
                matrix.row(r, into: &row)
                for c in 0..<matrix.cols where row[c].bitPattern != expected[r * matrix.cols + c].bitPattern { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(tensor): \(mismatches) of \(expected.count) values differ")
        }
    }
}
