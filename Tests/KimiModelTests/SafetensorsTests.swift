import Foundation
import KimiModel
import TestSupport
import Testing

/// Corrupt and truncated files are clear errors naming the file and tensor, never a crash.
@Suite struct SafetensorsTests {
    static func expectError(
        _ json: String, data: Data = Data(count: 64), headerLength: UInt64? = nil,
        containing fragment: String
    ) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("model.safetensors").path
        try SafetensorsWriter.write(path, headerJSON: json, data: data, headerLength: headerLength)
        do {
            _ = try SafetensorsFile(path: path)
            Issue.record("accepted: \(json)")
        } catch let error as CheckpointError {
            #expect(error.description.contains("model.safetensors"), "\(error)")
            #expect(error.description.contains(fragment), "\(error)")
        }
    }

    @Test("a well-formed file parses with 64-bit offsets after the header")
    func valid() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("x.safetensors").path
        try SafetensorsWriter.write(path, [.init(name: "a", dtype: "F8_E4M3", shape: [3, 5]), .init(name: "b", dtype: "F32", shape: [2])])
        let file = try SafetensorsFile(path: path)
        #expect(file.tensors["a"]!.byteCount == 15 && file.tensors["b"]!.byteCount == 8)
        #expect(file.tensors["b"]!.offset == file.tensors["a"]!.offset + 15)
        #expect(file.metadata["format"] == "pt")
    }

    @Test("malformed headers are rejected with the reason")
    func malformed() throws {
        try Self.expectError("{", containing: "not valid JSON")
        try Self.expectError("[1, 2]", containing: "not a JSON object")
        try Self.expectError(#"{"t": {"dtype": "F99", "shape": [2], "data_offsets": [0, 2]}}"#, containing: "unknown dtype F99")
        try Self.expectError(#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, containing: "needs 8")
        try Self.expectError(#"{"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}"#, containing: "tensor t")
        try Self.expectError(#"{"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}}"#, containing: "not ordered")
        try Self.expectError(#"{"t": {"dtype": "F32", "shape": [100], "data_offsets": [0, 400]}}"#, containing: "truncated")
        try Self.expectError(
            #"{"t": {"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 8]}}"#, containing: "overflows")
        try Self.expectError(
            #"{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}, "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}"#,
            containing: "overlap")
        try Self.expectError(#"{"t": {"dtype": "F32", "shape": [2]}}"#, containing: "data_offsets")
    }

    @Test("a file shorter than its header, or than 8 bytes, is rejected")
    func truncatedHeaders() throws {
        try Self.expectError("{}", data: Data(), headerLength: 1 << 20, containing: "runs past the end")
        try Self.expectError("{}", data: Data(), headerLength: UInt64.max, containing: "exceeds")
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("tiny.safetensors").path
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { _ = try SafetensorsFile(path: path) }
    }

    @Test("a truncated shard of a real-layout checkpoint names the cut tensor")
    func truncatedShard() throws {
        let dir = try Fixtures.copy("kimi-mini")
        defer { try? FileManager.default.removeItem(at: dir) }
        let shard = dir.appendingPathComponent("model-00003-of-000003.safetensors").path
        let size = try FileManager.default.attributesOfItem(atPath: shard)[.size] as! Int
        #expect(truncate(shard, off_t(size - 1000)) == 0)
        do {
            _ = try Checkpoint(directory: dir.path)
            Issue.record("a truncated shard was accepted")
        } catch let error as CheckpointError {
            #expect(error.description.contains("model-00003-of-000003.safetensors: tensor "))
            #expect(error.description.contains("truncated"))
        }
    }
}
