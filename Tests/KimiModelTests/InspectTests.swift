import Foundation
import KimiJSON
import KimiModel
import TestSupport
import Testing

/// `kimi-serve inspect` through the built binary: a clean checkpoint passes; a missing,
/// mis-shaped, wrongly typed, unexpected or truncated tensor is named and the exit status is 1.
@Suite struct InspectTests {
    @Test("every fixture checkpoint inspects clean", arguments: Fixtures.names)
    func clean(_ name: String) throws {
        let result = try Binary.run(["inspect", "--model", Fixtures.checkpoint(name)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("present with the right shapes and dtypes"))
        let json = try Binary.run(["inspect", "--model", Fixtures.checkpoint(name), "--json"])
        let object = try JSONParser.parse(json.stdout)
        #expect(object["problems"]?.array == [])
        #expect(
            object["total_parameters"]?.int
                == TensorManifest.tensors(try Checkpoint(directory: Fixtures.checkpoint(name)).config).reduce(0) { $0 + $1.elementCount })
    }

    static func damaged(_ edit: (URL) throws -> Void) throws -> Binary.Result {
        let dir = try Fixtures.copy("kimi-mini")
        defer { try? FileManager.default.removeItem(at: dir) }
        try edit(dir)
        return try Binary.run(["inspect", "--model", dir.path])
    }

    /// The shard of `tensor` in the kimi-mini copy at `dir`, from its index.
    static func shard(of tensor: String, in dir: URL) throws -> String {
        let index = try JSONParser.parse([UInt8](Data(contentsOf: dir.appendingPathComponent("model.safetensors.index.json"))))
        return dir.appendingPathComponent(index["weight_map"]![tensor]!.string!).path
    }

    static func removeFromIndex(_ tensor: String, in dir: URL) throws {
        let url = dir.appendingPathComponent("model.safetensors.index.json")
        var index = try JSONParser.parse([UInt8](Data(contentsOf: url))).object!
        var map = index["weight_map"]!.object!
        map[tensor] = nil
        index["weight_map"] = .object(map)
        try Data(JSONWriter().string(.object(index)).utf8).write(to: url)
    }

    @Test("a missing tensor is named")
    func missing() throws {
        let name = "model.layers.1.mlp.experts.5.down_proj.weight"
        let result = try Self.damaged { dir in
            try SafetensorsWriter.editHeader(try Self.shard(of: name, in: dir)) { $0[name] = nil }
            try Self.removeFromIndex(name, in: dir)
        }
        #expect(result.status == 1)
        #expect(result.stdout.contains("missing: \(name)"))
        #expect(!result.stdout.contains("missing: \(name)_scale_inv"))
    }

    @Test("a mis-shaped tensor and a wrong dtype are named with expected and actual")
    func misShaped() throws {
        let name = "model.layers.0.self_attn.kv_a_proj_with_mqa.weight"  // [160, 160]
        let scale = name + "_scale_inv"  // [2, 2] F32
        let result = try Self.damaged { dir in
            try SafetensorsWriter.editHeader(try Self.shard(of: name, in: dir)) { header in
                var entry = header[name]!.object!
                entry["shape"] = .array([JSONValue(80), JSONValue(320)])
                header[name] = .object(entry)
            }
            try SafetensorsWriter.editHeader(try Self.shard(of: scale, in: dir)) { header in
                var entry = header[scale]!.object!
                entry["dtype"] = .string("I32")
                header[scale] = .object(entry)
            }
        }
        #expect(result.status == 1)
        #expect(result.stdout.contains("wrong shape: \(name) is [80, 320], expected [160, 160]"))
        #expect(result.stdout.contains("wrong dtype: \(scale) is I32, expected F32"))
    }

    @Test("an unexpected tensor is named; MTP layers are not unexpected")
    func unexpected() throws {
        let result = try Self.damaged { dir in
            let shard = dir.appendingPathComponent("model-00001-of-000003.safetensors").path
            try SafetensorsWriter.editHeader(shard) { header in
                header["model.layers.0.self_attn.rotary_emb.inv_freq"] = .object(
                    JSONObject([
                        "dtype": .string("F32"), "shape": .array([JSONValue(0)]),
                        "data_offsets": .array([JSONValue(0), JSONValue(0)]),
                    ]))
            }
        }
        #expect(result.status == 1)
        #expect(result.stdout.contains("unexpected: model.layers.0.self_attn.rotary_emb.inv_freq"))
        let mtp = try Binary.run(["inspect", "--model", Fixtures.checkpoint("deepseek-grouped")])
        #expect(mtp.status == 0)
        #expect(mtp.stdout.contains("skipped MTP layers"))
    }

    @Test("a truncated shard fails inspect with the file and tensor named")
    func truncated() throws {
        let result = try Self.damaged { dir in
            let shard = dir.appendingPathComponent("model-00002-of-000003.safetensors").path
            let size = try FileManager.default.attributesOfItem(atPath: shard)[.size] as! Int
            #expect(truncate(shard, off_t(size / 2)) == 0)
        }
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: model-00002-of-000003.safetensors: tensor "))
        #expect(result.stderr.contains("truncated"))
    }

    @Test("a checkpoint without weights or with a broken config is a clear error")
    func brokenDirectories() throws {
        let empty = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: empty) }
        try FileManager.default.copyItem(atPath: Fixtures.checkpoint("kimi-mini") + "/config.json", toPath: empty.path + "/config.json")
        let none = try Binary.run(["inspect", "--model", empty.path])
        #expect(none.status == 1 && none.stderr.contains("neither model.safetensors.index.json nor model.safetensors"))
        let result = try Self.damaged { dir in
            try Data(#"{"hidden_size": 160}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
        }
        #expect(result.status == 1 && result.stderr.contains("config.json: \"vocab_size\" is missing"))
    }
}
