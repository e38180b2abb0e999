import Foundation
import KimiModel
import TestSupport
import Testing

/// `kimi-serve quantize` against compressed-tensors: Scripts/make_fixtures.py quantised two of
/// kimi-mini's expert weights with the package itself (quantize-int4-group16.safetensors); the
/// command's output must hold exactly those codes and scales, load cleanly, and copy the rest.
@Suite struct QuantizerTests {
    @Test("quantize writes compressed-tensors' own int4 codes and scales, and copies the rest")
    func matchesCompressedTensors() throws {
        let out = try Fixtures.temporaryDirectory().appendingPathComponent("int4")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let result = try Binary.run(["quantize", "--model", Fixtures.checkpoint("kimi-mini"), "--out", out.path, "--group-size", "16"])
        #expect(result.status == 0, "\(result.stderr)")

        let input = try Checkpoint(directory: Fixtures.checkpoint("kimi-mini"))
        let output = try Checkpoint(directory: out.path)
        #expect(TensorManifest.problems(output).isEmpty)
        guard case let .compressedTensors(ct) = output.config.quantization else {
            Issue.record("the output's config is not compressed-tensors")
            return
        }
        #expect(ct.scheme(forModule: "model.layers.2.mlp.experts.7.up_proj") == .int4(groupSize: 16))
        #expect(ct.scheme(forModule: "model.layers.2.self_attn.kv_b_proj") == .fp8Block)
        #expect(ct.scheme(forModule: "model.layers.0.mlp.down_proj") == .fp8Block)
        #expect(ct.scheme(forModule: "model.layers.1.mlp.shared_experts.gate_proj") == .fp8Block)

        let reference = try SafetensorsFile(
            path: Fixtures.root.appendingPathComponent("references/kimi-mini/quantize-int4-group16.safetensors").path)
        #expect(reference.tensors.count == 4)
        for (name, info) in reference.tensors {
            let ours = try #require(output.info(name), "\(name) missing")
            #expect(ours.shape == info.shape && ours.dtype == info.dtype, "\(name)")
            let same = memcmp(output.pointer(name)!, reference.pointer(info), info.byteCount) == 0
            #expect(same, "\(name) differs from compressed-tensors'")
        }
        // Kept tensors byte for byte, block-fp8 scales under compressed-tensors' name.
        for (kept, from) in [
            ("model.layers.1.self_attn.o_proj.weight", "model.layers.1.self_attn.o_proj.weight"),
            ("model.layers.1.self_attn.o_proj.weight_scale", "model.layers.1.self_attn.o_proj.weight_scale_inv"),
            ("lm_head.weight", "lm_head.weight"),
        ] {
            let a = try #require(output.info(kept)), b = try #require(input.info(from))
            #expect(a.byteCount == b.byteCount && memcmp(output.pointer(kept)!, input.pointer(from)!, a.byteCount) == 0, "\(kept)")
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("tiktoken.model").path))
        let model = try KimiTransformer(directory: out.path)
        let logits = try model.logits([1, 2, 3, 4], cache: model.makeCache())
        let finite = logits.allSatisfy(\.isFinite)
        #expect(finite)
    }

    @Test("quantize --layers all-linear quantises every linear layer and the result loads")
    func allLinear() throws {
        let out = try Fixtures.temporaryDirectory().appendingPathComponent("int4")
        defer { try? FileManager.default.removeItem(at: out.deletingLastPathComponent()) }
        let quantizer = try CheckpointQuantizer(
            checkpoint: Checkpoint(directory: Fixtures.checkpoint("kimi-mini")), groupSize: 16, layers: .allLinear)
        try quantizer.write(to: out.path) { _ in }
        let output = try Checkpoint(directory: out.path)
        #expect(TensorManifest.problems(output).isEmpty)
        #expect(output.info("model.layers.0.self_attn.kv_b_proj.weight_packed") != nil)
        let fp8Left = output.tensors.keys.filter { $0.hasSuffix("_scale_inv") }
        #expect(fp8Left.isEmpty)
    }

    @Test("quantize refuses what it cannot do, naming why, before writing anything")
    func refusals() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("out").path
        for (arguments, message) in [
            (["--model", Fixtures.checkpoint("kimi-mini"), "--out", out], "48 columns are not a multiple of --group-size 32"),
            (["--model", Fixtures.checkpoint("kimi-mini"), "--out", out, "--group-size", "24"], "not a positive multiple of 16"),
            (["--model", Fixtures.checkpoint("k2-thinking-int4"), "--out", out], "already compressed-tensors"),
            (
                ["--model", Fixtures.checkpoint("kimi-mini"), "--group-size", "16", "--out", Fixtures.checkpoint("plain-moe")],
                "already holds a config.json"
            ),
        ] {
            let result = try Binary.run(["quantize"] + arguments)
            #expect(result.status == 1 && result.stderr.contains(message), "\(arguments): \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/config.json"))
        }
    }
}
