import Foundation
import KimiJSON
import KimiModel
import Testing

@Suite struct ConfigTests {
    static func k2(_ file: String = "kimi-k2-instruct.json") throws -> JSONObject {
        let text = try String(contentsOfFile: Fixtures.root.appendingPathComponent("configs/\(file)").path, encoding: .utf8)
        return try JSONParser.parse(text).object!
    }

    static func parse(_ object: JSONObject) throws -> ModelConfig {
        try ModelConfig(json: JSONWriter().string(.object(object)))
    }

    @Test("Kimi K2's config parses with its derived constants (softmax scale, YaRN frequencies)")
    func kimiK2() throws {
        let c = try Self.parse(Self.k2())
        #expect(c.kvCacheWidth == 576)
        #expect(c.qLoraRank == 1536 && c.qkHeadDim == 192 && c.moeLayerCount == 60)
        let rope = RotaryEmbedding(config: c)
        // qk_head_dim 192, YaRN factor 32, mscale_all_dim 1: 192^-0.5 · (0.1 ln 32 + 1)^2 = 0.1308608; cos/sin unscaled.
        #expect(abs(rope.softmaxScale - 0.1308608) < 1e-6)
        #expect(rope.attentionFactor == 1)
        // transformers' _compute_yarn_parameters (beta_fast 1, beta_slow 1): frequencies 0..19 keep base^(-2i/64), 20..31 are divided by the factor.
        for i in 0..<32 {
            let original = 1 / powf(50000, Float(2 * i) / 64)
            let expected = i < 20 ? original : original / 32
            #expect(abs(rope.invFreq[i] - expected) <= 1e-6 * expected, "inv_freq[\(i)]")
        }
        let c0905 = try Self.parse(Self.k2("kimi-k2-instruct-0905.json"))
        #expect(abs(RotaryEmbedding(config: c0905).softmaxScale - 0.1446796) < 1e-6)
        #expect(c0905.maxPositionEmbeddings == 262_144)
    }

    @Test("q_lora_rank null selects q_proj; absent rope_scaling means plain RoPE")
    func optionalPaths() throws {
        var o = try Self.k2()
        o["q_lora_rank"] = .null
        o["rope_scaling"] = .null
        let c = try Self.parse(o)
        #expect(c.qLoraRank == nil && c.ropeScaling == nil)
        #expect(RotaryEmbedding(config: c).softmaxScale == Float(1 / Double(192).squareRoot()))
    }

    static let invalid: [(String, JSONValue?, String)] = [
        ("hidden_size", nil, "hidden_size"),
        ("vocab_size", .string("big"), "vocab_size"),
        ("num_hidden_layers", JSONValue(0), "num_hidden_layers"),
        ("q_lora_rank", nil, "q_lora_rank"),
        ("qk_rope_head_dim", JSONValue(63), "qk_rope_head_dim"),
        ("n_group", JSONValue(5), "n_group"),
        ("topk_group", JSONValue(2), "topk_group"),
        ("num_experts_per_tok", JSONValue(400), "num_experts_per_tok"),
        ("first_k_dense_replace", JSONValue(62), "first_k_dense_replace"),
        ("moe_layer_freq", JSONValue(2), "moe_layer_freq"),
        ("scoring_func", .string("softmax"), "scoring_func"),
        ("topk_method", .string("greedy"), "topk_method"),
        ("hidden_act", .string("gelu"), "hidden_act"),
        ("attention_bias", .bool(true), "attention_bias"),
        ("rms_norm_eps", JSONValue(0), "rms_norm_eps"),
        ("rope_scaling", .object(JSONObject(["type": .string("linear"), "factor": JSONValue(2)])), "rope_scaling.type"),
        (
            "rope_scaling", .object(JSONObject(["type": .string("yarn"), "factor": JSONValue(2)])),
            "rope_scaling.original_max_position_embeddings"
        ),
        (
            "quantization_config",
            .object(JSONObject(["quant_method": .string("fp8"), "weight_block_size": .array([JSONValue(64), JSONValue(64)])])),
            "quantization_config.weight_block_size"
        ),
        ("quantization_config", .object(JSONObject(["quant_method": .string("awq")])), "quantization_config.quant_method"),
    ]

    @Test("an unsupported or inconsistent value is an error naming its key", arguments: 0..<invalid.count)
    func invalidValues(_ i: Int) throws {
        let (key, value, named) = Self.invalid[i]
        var o = try Self.k2()
        o[key] = value
        if key == "topk_group" { o["n_group"] = JSONValue(1) }
        do {
            _ = try Self.parse(o)
            Issue.record("\(key) = \(value.map { JSONWriter().string($0) } ?? "absent") was accepted")
        } catch let error as ConfigError {
            #expect(error.key == named)
            #expect(error.description.contains("\"\(named)\""))
        }
    }

    @Test("DeepSeek-V3's grouped routing (8 groups, keep 4) is accepted")
    func grouped() throws {
        var o = try Self.k2()
        o["n_routed_experts"] = JSONValue(256)
        o["n_group"] = JSONValue(8)
        o["topk_group"] = JSONValue(4)
        let c = try Self.parse(o)
        #expect(c.expertsPerGroup == 32)
    }

    @Test("Kimi-K2-Thinking's compressed-tensors config: int4 group 32 for the routed experts, its ignore list bf16")
    func k2Thinking() throws {
        let c = try Self.parse(Self.k2("kimi-k2-thinking.json"))
        guard case let .compressedTensors(ct) = c.quantization else {
            Issue.record("not read as compressed-tensors")
            return
        }
        #expect(ct.scheme(forModule: "model.layers.1.mlp.experts.0.gate_proj") == .int4(groupSize: 32))
        #expect(ct.scheme(forModule: "model.layers.60.mlp.experts.383.down_proj") == .int4(groupSize: 32))
        for module in [
            "model.layers.0.mlp.gate_proj", "model.layers.0.mlp.down_proj", "model.layers.5.self_attn.kv_b_proj",
            "model.layers.5.mlp.shared_experts.up_proj", "lm_head",
        ] {
            #expect(ct.scheme(forModule: module) == nil, "\(module)")
        }
    }

    /// K2-Thinking's quantization_config with `edit` applied to its group_0 (or to the whole config).
    static func compressedTensors(_ edit: (inout JSONObject, inout JSONObject) -> Void) throws -> JSONObject {
        var o = try k2("kimi-k2-thinking.json")
        var q = o["quantization_config"]!.object!
        var group = q["config_groups"]!["group_0"]!.object!
        edit(&q, &group)
        if var groups = q["config_groups"]?.object, groups["group_0"] != nil {
            groups["group_0"] = .object(group)
            q["config_groups"] = .object(groups)
        }
        o["quantization_config"] = .object(q)
        return o
    }

    static func weights(_ group: inout JSONObject, _ key: String, _ value: JSONValue) {
        var w = group["weights"]!.object!
        w[key] = value
        group["weights"] = .object(w)
    }

    static let invalidCompressed: [(String, @Sendable (inout JSONObject, inout JSONObject) -> Void)] = [
        ("quantization_config.config_groups.group_0.weights.num_bits", { _, g in weights(&g, "num_bits", JSONValue(3)) }),
        ("quantization_config.config_groups.group_0.weights.symmetric", { _, g in weights(&g, "symmetric", .bool(false)) }),
        ("quantization_config.config_groups.group_0.weights.group_size", { _, g in weights(&g, "group_size", JSONValue(24)) }),
        ("quantization_config.config_groups.group_0.weights.strategy", { _, g in weights(&g, "strategy", .string("tensor")) }),
        ("quantization_config.config_groups.group_0.weights.actorder", { _, g in weights(&g, "actorder", .string("group")) }),
        ("quantization_config.config_groups.group_0.weights.dynamic", { _, g in weights(&g, "dynamic", .bool(true)) }),
        (
            "quantization_config.config_groups.group_0.input_activations",
            { _, g in g["input_activations"] = .object(JSONObject(["num_bits": JSONValue(8), "type": .string("int")])) }
        ),
        ("quantization_config.config_groups.group_0.targets", { _, g in g["targets"] = .array([]) }),
        ("quantization_config.config_groups.group_0.targets", { _, g in g["targets"] = .array([.string("re:(unclosed")]) }),
        ("quantization_config.ignore", { q, _ in q["ignore"] = .array([.string("re:[z-a]")]) }),
        ("quantization_config.config_groups.group_0.format", { q, _ in q["format"] = .string("int-quantized") }),
        ("quantization_config.kv_cache_scheme", { q, _ in q["kv_cache_scheme"] = .object(JSONObject(["num_bits": JSONValue(8)])) }),
        ("quantization_config.config_groups", { q, _ in q["config_groups"] = .object(JSONObject()) }),
    ]

    @Test("a malformed or unsupported compressed-tensors config is an error naming its key", arguments: 0..<invalidCompressed.count)
    func invalidCompressedTensors(_ i: Int) throws {
        let (named, edit) = Self.invalidCompressed[i]
        let o = try Self.compressedTensors(edit)
        do {
            _ = try Self.parse(o)
            Issue.record("case \(i) was accepted")
        } catch let error as ConfigError {
            #expect(error.key == named, "\(error)")
        }
    }
}
