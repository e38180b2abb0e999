import Foundation
import KimiJSON
import KimiModel
import TestSupport
import Testing

/// Kimi-K2-Instruct at full size without its terabyte: the full config and the tensor names of
/// its model.safetensors.index.json in 62 shards whose headers are real and whose data is a hole (`ftruncate`). Loading it
/// exercises 64-bit offsets, the 61-layer × 384-expert index and the memory plan in seconds.
@Suite(.serialized) struct RealScaleTests {
    /// Kimi-K2-Instruct's tensor list, written out here independently of TensorManifest; with
    /// `thinking`, Kimi-K2-Thinking's: the routed experts compressed-tensors int4 (I32 codes, BF16
    /// scales per 32 columns, I64 weight_shape), every other linear BF16.
    static func kimiK2Tensors(thinking: Bool = false) -> [SafetensorsWriter.Entry] {
        var out: [SafetensorsWriter.Entry] = []
        func linear(_ name: String, _ rows: Int, _ cols: Int) {
            if thinking {
                out.append(.init(name: name, dtype: "BF16", shape: [rows, cols]))
                return
            }
            out.append(.init(name: name, dtype: "F8_E4M3", shape: [rows, cols]))
            out.append(.init(name: name + "_scale_inv", dtype: "F32", shape: [(rows + 127) / 128, (cols + 127) / 128]))
        }
        func expert(_ name: String, _ rows: Int, _ cols: Int) {
            guard thinking else { return linear(name, rows, cols) }
            let module = String(name.dropLast(".weight".count))
            out.append(.init(name: module + ".weight_packed", dtype: "I32", shape: [rows, cols / 8]))
            out.append(.init(name: module + ".weight_scale", dtype: "BF16", shape: [rows, cols / 32]))
            out.append(.init(name: module + ".weight_shape", dtype: "I64", shape: [2]))
        }
        func bf16(_ name: String, _ shape: [Int]) { out.append(.init(name: name, dtype: "BF16", shape: shape)) }
        bf16("model.embed_tokens.weight", [163_840, 7168])
        for layer in 0..<61 {
            let p = "model.layers.\(layer)."
            bf16(p + "input_layernorm.weight", [7168])
            bf16(p + "post_attention_layernorm.weight", [7168])
            linear(p + "self_attn.q_a_proj.weight", 1536, 7168)
            bf16(p + "self_attn.q_a_layernorm.weight", [1536])
            linear(p + "self_attn.q_b_proj.weight", 12288, 1536)
            linear(p + "self_attn.kv_a_proj_with_mqa.weight", 576, 7168)
            bf16(p + "self_attn.kv_a_layernorm.weight", [512])
            linear(p + "self_attn.kv_b_proj.weight", 16384, 512)
            linear(p + "self_attn.o_proj.weight", 7168, 8192)
            if layer == 0 {
                linear(p + "mlp.gate_proj.weight", 18432, 7168)
                linear(p + "mlp.up_proj.weight", 18432, 7168)
                linear(p + "mlp.down_proj.weight", 7168, 18432)
            } else {
                bf16(p + "mlp.gate.weight", [384, 7168])
                out.append(.init(name: p + "mlp.gate.e_score_correction_bias", dtype: "F32", shape: [384]))
                for e in 0..<384 {
                    expert(p + "mlp.experts.\(e).gate_proj.weight", 2048, 7168)
                    expert(p + "mlp.experts.\(e).up_proj.weight", 2048, 7168)
                    expert(p + "mlp.experts.\(e).down_proj.weight", 7168, 2048)
                }
                linear(p + "mlp.shared_experts.gate_proj.weight", 2048, 7168)
                linear(p + "mlp.shared_experts.up_proj.weight", 2048, 7168)
                linear(p + "mlp.shared_experts.down_proj.weight", 7168, 2048)
            }
        }
        bf16("model.norm.weight", [7168])
        bf16("lm_head.weight", [163_840, 7168])
        return out
    }

    /// Writes the sparse checkpoint (with `thinking`, Kimi-K2-Thinking's, its weight_shape
    /// tensors holding their values); returns its directory and each shard's file and tensors.
    static func writeSparseKimiK2(thinking: Bool = false) throws -> (URL, [(file: String, tensors: [SafetensorsWriter.Entry])]) {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(
            atPath: Fixtures.root.appendingPathComponent(thinking ? "configs/kimi-k2-thinking.json" : "configs/kimi-k2-instruct.json").path,
            toPath: dir.appendingPathComponent("config.json").path)
        let tensors = kimiK2Tensors(thinking: thinking), contents = weightShapes(tensors)
        let shards = 62
        let total = tensors.reduce(0) { $0 + $1.bytes }
        var groups = [[SafetensorsWriter.Entry]](repeating: [], count: shards)
        var acc = 0
        for t in tensors {
            groups[min(acc * shards / total, shards - 1)].append(t)
            acc += t.bytes
        }
        let files = (0..<shards).map { String(format: "model-%05d-of-%06d.safetensors", $0 + 1, shards) }
        for (file, group) in zip(files, groups) {
            try SafetensorsWriter.write(dir.appendingPathComponent(file).path, group, contents: contents)
        }
        try writeIndex(dir, Array(zip(files, groups)))
        return (dir, Array(zip(files, groups)))
    }

    /// The values of the weight_shape tensors among `tensors`: [rows, cols] of the expert's matrix.
    static func weightShapes(_ tensors: [SafetensorsWriter.Entry]) -> [String: Data] {
        var contents: [String: Data] = [:]
        for t in tensors where t.name.hasSuffix(".weight_shape") {
            let rows = t.name.contains("down_proj") ? 7168 : 2048, cols = rows == 7168 ? 2048 : 7168
            contents[t.name] = withUnsafeBytes(of: (Int64(rows).littleEndian, Int64(cols).littleEndian)) { Data($0) }
        }
        return contents
    }

    static func writeIndex(_ dir: URL, _ shards: [(file: String, tensors: [SafetensorsWriter.Entry])]) throws {
        var weightMap = JSONObject()
        var total = 0
        for (file, group) in shards {
            for t in group {
                weightMap[t.name] = .string(file)
                total += t.bytes
            }
        }
        let index = JSONValue.object(
            JSONObject([
                "metadata": .object(JSONObject(["total_size": JSONValue(total)])),
                "weight_map": .object(weightMap),
            ]))
        try Data(JSONWriter().string(index).utf8).write(to: dir.appendingPathComponent("model.safetensors.index.json"))
    }

    @Test("inspect loads and validates a sparse full-size Kimi-K2-Instruct")
    func sparseKimiK2() throws {
        let (dir, shards) = try Self.writeSparseKimiK2()
        defer { try? FileManager.default.removeItem(at: dir) }

        let checkpoint = try Checkpoint(directory: dir.path)
        #expect(checkpoint.shards.count == 62)
        #expect(TensorManifest.problems(checkpoint).isEmpty)
        // 64-bit offsets: shards are ~16.6 GB, so tensors sit far beyond 4 GiB into their file.
        let farthest = checkpoint.tensors.values.map { $0.info.offset + $0.info.byteCount }.max()!
        #expect(farthest > 1 << 32)
        #expect(checkpoint.mappedBytes > 1_000_000_000_000)
        // A weight and its scale in different shards must be found all the same.
        let split = checkpoint.tensors.keys.filter { name in
            name.hasSuffix("_scale_inv") && checkpoint.tensors[String(name.dropLast(10))]!.shard != checkpoint.tensors[name]!.shard
        }
        #expect(!split.isEmpty)

        let summary = ModelSummary(checkpoint: checkpoint)
        // The model card: "1 trillion total parameters, 32 billion activated".
        #expect((1.0e12...1.05e12).contains(Double(summary.totalParameters)), "total \(summary.totalParameters)")
        #expect((32.0e9...33.0e9).contains(Double(summary.activeParameters)), "active \(summary.activeParameters)")
        // kv_lora_rank 512 + qk_rope_head_dim 64 = 576 values per token and layer, 61 layers: 70,272 bytes in bf16.
        #expect(summary.kvBytesPerTokenBF16 == 70_272)
        #expect(summary.weightBytes <= checkpoint.mappedBytes)

        let result = try Binary.run(["inspect", "--model", dir.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONParser.parse(result.stdout)
        #expect(json["total_parameters"]?.int == summary.totalParameters)
        #expect(json["shards"]?.int == 62)

        // quantize's plan for it: int4 experts (half a byte per parameter and a BF16 scale per
        // 32) and the rest copied, about 0.59 TB in 62 shards, within 64 MB of memory at a time.
        let plan = try CheckpointQuantizer(checkpoint: checkpoint, groupSize: 32, layers: .experts)
        #expect(plan.shards.count == 62)
        #expect((0.57e12...0.61e12).contains(Double(plan.outputBytes)), "output \(plan.outputBytes)")
        #expect(plan.memoryBound == 64 << 20)
        let dryRun = try Binary.run(["quantize", "--model", dir.path, "--out", dir.appendingPathComponent("int4").path, "--dry-run"])
        #expect(dryRun.status == 0 && dryRun.stdout.contains("memory bound 64.00 MiB"), "\(dryRun.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("int4").path))

        // One tensor of layer 60's last expert left out of its shard and the index: named, exit 1.
        let victim = "model.layers.60.mlp.experts.383.up_proj.weight_scale_inv"
        let damaged = shards.map { shard in (file: shard.file, tensors: shard.tensors.filter { $0.name != victim }) }
        let i = shards.firstIndex { $0.tensors.contains { $0.name == victim } }!
        try SafetensorsWriter.write(dir.appendingPathComponent(damaged[i].file).path, damaged[i].tensors)
        try Self.writeIndex(dir, damaged)
        let broken = try Binary.run(["inspect", "--model", dir.path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("missing: \(victim)"))
    }

    @Test("inspect loads and validates a sparse full-size Kimi-K2-Thinking (int4 experts): about 0.6 TB")
    func sparseKimiK2Thinking() throws {
        let (dir, shards) = try Self.writeSparseKimiK2(thinking: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        let checkpoint = try Checkpoint(directory: dir.path)
        #expect(TensorManifest.problems(checkpoint).isEmpty)
        let summary = ModelSummary(checkpoint: checkpoint)
        #expect((1.0e12...1.05e12).contains(Double(summary.totalParameters)), "total \(summary.totalParameters)")
        // Int4 experts: half a byte per parameter plus a BF16 scale per 32 (1/16 byte each);
        // everything else two bytes per parameter: 0.59 TB in all.
        #expect((0.58e12...0.61e12).contains(Double(summary.weightBytes)), "weights \(summary.weightBytes)")
        let experts = summary.formats.first { $0.part == "routed experts" }
        #expect(experts?.format == "int4 group 32 (BF16 scales)")

        let result = try Binary.run(["inspect", "--model", dir.path, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONParser.parse(result.stdout)
        #expect(json["weight_bytes"]?.int == summary.weightBytes)
        #expect(json["config"]?["quantization"]?.string == "compressed-tensors")

        // A scale left out, and an expert's weight_shape that disagrees with the config: both named, exit 1.
        let victim = "model.layers.60.mlp.experts.383.up_proj.weight_scale"
        let wrongShape = "model.layers.60.mlp.experts.383.gate_proj.weight_shape"
        let damaged = shards.map { shard in (file: shard.file, tensors: shard.tensors.filter { $0.name != victim }) }
        let i = shards.firstIndex { $0.tensors.contains { $0.name == victim } }!
        var contents = Self.weightShapes(damaged[i].tensors)
        contents[wrongShape] = withUnsafeBytes(of: (Int64(7168).littleEndian, Int64(2048).littleEndian)) { Data($0) }
        try SafetensorsWriter.write(dir.appendingPathComponent(damaged[i].file).path, damaged[i].tensors, contents: contents)
        try Self.writeIndex(dir, damaged)
        let broken = try Binary.run(["inspect", "--model", dir.path])
        #expect(broken.status == 1)
        #expect(broken.stdout.contains("missing: \(victim)"))
        #expect(broken.stdout.contains("invalid: \(wrongShape): holds [7168, 2048], expected [2048, 7168]"))
    }
}
