import KimiJSON
import KimiKernels

/// The hyper-parameters of a DeepSeek-V3-architecture checkpoint (Kimi K2 and relatives), read
/// from `config.json` with the keys of Kimi K2's (a DeepseekV3Config with `model_type`
/// kimi_k2). Every value the forward pass depends
/// on is validated here; an unsupported or inconsistent value is a `ConfigError` naming its key.
public struct ModelConfig: Sendable, Equatable {
    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    /// Intermediate size of the dense SwiGLU layers (the first `firstKDenseReplace`).
    public var intermediateSize: Int
    /// Intermediate size of one routed expert (and, times `nSharedExperts`, of the shared expert).
    public var moeIntermediateSize: Int
    public var numHiddenLayers: Int
    public var firstKDenseReplace: Int
    public var numAttentionHeads: Int
    /// nil: queries through a plain `q_proj` (DeepSeek-V2-Lite); else the q_a/q_b low-rank path.
    public var qLoraRank: Int?
    public var kvLoraRank: Int
    public var qkNopeHeadDim: Int
    public var qkRopeHeadDim: Int
    public var vHeadDim: Int
    public var nRoutedExperts: Int
    public var nSharedExperts: Int
    public var numExpertsPerTok: Int
    public var nGroup: Int
    public var topkGroup: Int
    public var normTopkProb: Bool
    public var routedScalingFactor: Float
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: YarnScaling?
    public var maxPositionEmbeddings: Int
    public var tieWordEmbeddings: Bool
    /// How the linear weights are stored (`quantization_config`).
    public var quantization: WeightQuantization
    /// Multi-token-prediction layers stored after the last layer; recognised and skipped.
    public var numNextnPredictLayers: Int
    public var eosTokenId: Int?

    public var qkHeadDim: Int { qkNopeHeadDim + qkRopeHeadDim }
    /// Width of one cached token per layer: the normalised latent then the rotated k_pe.
    public var kvCacheWidth: Int { kvLoraRank + qkRopeHeadDim }
    /// Widest activation of a feed-forward block: the dense MLP's, or the shared experts' together.
    var widestFeedForward: Int { max(intermediateSize, moeIntermediateSize * max(nSharedExperts, 1), 1) }
    /// Widest input of any weight matrix (the columns of the widest product).
    var widestInput: Int { max(hiddenSize, qLoraRank ?? 0, kvLoraRank, numAttentionHeads * vHeadDim, widestFeedForward) }
    public func isMoE(layer: Int) -> Bool { layer >= firstKDenseReplace }
    public var moeLayerCount: Int { numHiddenLayers - firstKDenseReplace }
    public var expertsPerGroup: Int { nRoutedExperts / nGroup }
}

/// How config.json's `quantization_config` says the linear weights are stored.
public enum WeightQuantization: Sendable, Equatable {
    /// None: every weight in a float dtype.
    case none
    /// DeepSeek's block-fp8 (`quant_method: "fp8"`): F8_E4M3 weights, each with an F32
    /// `weight_scale_inv` per 128×128 block.
    case blockFP8
    /// compressed-tensors: each linear layer as its config group says.
    case compressedTensors(CompressedTensorsConfig)
}

/// `rope_scaling` of type yarn, with the defaults and quirks of transformers'
/// `_compute_yarn_parameters`.
public struct YarnScaling: Sendable, Equatable {
    public var factor: Double
    public var originalMaxPositionEmbeddings: Int
    public var betaFast: Double
    public var betaSlow: Double
    public var mscale: Double?
    public var mscaleAllDim: Double?
    public var attentionFactor: Double?
    public var truncate: Bool
}

public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let key: String
    public let reason: String
    public init(key: String, reason: String) {
        self.key = key
        self.reason = reason
    }
    public var description: String { "config.json: \"\(key)\" \(reason)" }
}

extension ModelConfig {
    public init(json text: String) throws {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch {
            throw ConfigError(key: "(file)", reason: "is not valid JSON: \(error)")
        }
        guard let object = root.object else { throw ConfigError(key: "(file)", reason: "is not a JSON object") }
        try self.init(object)
    }

    init(_ c: JSONObject) throws {
        func value(_ key: String) throws -> JSONValue {
            guard let v = c[key], !v.isNull else { throw ConfigError(key: key, reason: "is missing") }
            return v
        }
        func int(_ key: String, min: Int = 1, default fallback: Int? = nil) throws -> Int {
            if let fallback, c[key] == nil || c[key]!.isNull { return fallback }
            guard let n = try value(key).int else { throw ConfigError(key: key, reason: "must be an integer") }
            guard n >= min else { throw ConfigError(key: key, reason: "is \(n); it must be at least \(min)") }
            return n
        }
        func double(_ key: String, default fallback: Double? = nil) throws -> Double {
            if let fallback, c[key] == nil || c[key]!.isNull { return fallback }
            guard let d = try value(key).double, d.isFinite else { throw ConfigError(key: key, reason: "must be a number") }
            return d
        }
        func bool(_ key: String, default fallback: Bool) throws -> Bool {
            guard let v = c[key], !v.isNull else { return fallback }
            guard let b = v.bool else { throw ConfigError(key: key, reason: "must be true or false") }
            return b
        }
        func string(_ key: String, default fallback: String) throws -> String {
            guard let v = c[key], !v.isNull else { return fallback }
            guard let s = v.string else { throw ConfigError(key: key, reason: "must be a string") }
            return s
        }
        func require(_ key: String, _ actual: String, in supported: [String]) throws {
            guard supported.contains(actual) else {
                throw ConfigError(
                    key: key, reason: "is \"\(actual)\"; only \(supported.map { "\"\($0)\"" }.joined(separator: ", ")) is supported")
            }
        }

        modelType = try string("model_type", default: "deepseek_v3")
        vocabSize = try int("vocab_size")
        hiddenSize = try int("hidden_size")
        numHiddenLayers = try int("num_hidden_layers")
        firstKDenseReplace = try int("first_k_dense_replace", min: 0, default: 0)
        guard firstKDenseReplace <= numHiddenLayers else {
            throw ConfigError(
                key: "first_k_dense_replace", reason: "is \(firstKDenseReplace), more than num_hidden_layers (\(numHiddenLayers))")
        }
        intermediateSize = try int("intermediate_size", min: firstKDenseReplace > 0 ? 1 : 0, default: firstKDenseReplace > 0 ? nil : 0)
        numAttentionHeads = try int("num_attention_heads")
        if let q = c["q_lora_rank"], !q.isNull {
            guard let n = q.int, n >= 1 else { throw ConfigError(key: "q_lora_rank", reason: "must be null or a positive integer") }
            qLoraRank = n
        } else {
            guard c["q_lora_rank"] != nil else {
                throw ConfigError(key: "q_lora_rank", reason: "is missing (write null for queries through q_proj)")
            }
            qLoraRank = nil
        }
        kvLoraRank = try int("kv_lora_rank")
        qkNopeHeadDim = try int("qk_nope_head_dim", min: 0)
        qkRopeHeadDim = try int("qk_rope_head_dim", min: 2)
        guard qkRopeHeadDim % 2 == 0 else {
            throw ConfigError(key: "qk_rope_head_dim", reason: "is \(qkRopeHeadDim); rotary pairs need an even size")
        }
        vHeadDim = try int("v_head_dim")

        let moe = firstKDenseReplace < numHiddenLayers
        nRoutedExperts = try int("n_routed_experts", min: moe ? 1 : 0, default: moe ? nil : 0)
        numExpertsPerTok = try int("num_experts_per_tok", min: moe ? 1 : 0, default: moe ? nil : 0)
        moeIntermediateSize = try int("moe_intermediate_size", min: moe ? 1 : 0, default: moe ? nil : 0)
        nSharedExperts = try int("n_shared_experts", min: 0, default: 0)
        nGroup = try int("n_group", default: 1)
        topkGroup = try int("topk_group", default: 1)
        normTopkProb = try bool("norm_topk_prob", default: true)
        routedScalingFactor = Float(try double("routed_scaling_factor", default: 1.0))
        if moe {
            guard numExpertsPerTok <= nRoutedExperts else {
                throw ConfigError(
                    key: "num_experts_per_tok", reason: "is \(numExpertsPerTok), more than n_routed_experts (\(nRoutedExperts))")
            }
            guard nRoutedExperts % nGroup == 0 else {
                throw ConfigError(key: "n_group", reason: "is \(nGroup), which does not divide n_routed_experts (\(nRoutedExperts))")
            }
            guard topkGroup <= nGroup else {
                throw ConfigError(key: "topk_group", reason: "is \(topkGroup), more than n_group (\(nGroup))")
            }
            if nGroup > 1 {
                guard nRoutedExperts / nGroup >= 2 else {
                    throw ConfigError(
                        key: "n_group", reason: "is \(nGroup): group scores sum each group's top 2, so groups need at least 2 experts")
                }
                guard topkGroup * (nRoutedExperts / nGroup) >= numExpertsPerTok else {
                    throw ConfigError(
                        key: "topk_group",
                        reason: "is \(topkGroup): the kept groups hold fewer than num_experts_per_tok (\(numExpertsPerTok)) experts")
                }
            }
        }
        let freq = try int("moe_layer_freq", default: 1)
        guard freq == 1 else {
            throw ConfigError(key: "moe_layer_freq", reason: "is \(freq); only 1 (every layer after the dense ones is MoE) is supported")
        }
        try require("topk_method", try string("topk_method", default: "noaux_tc"), in: ["noaux_tc"])
        try require("scoring_func", try string("scoring_func", default: "sigmoid"), in: ["sigmoid"])
        try require("hidden_act", try string("hidden_act", default: "silu"), in: ["silu"])
        guard try !bool("attention_bias", default: false) else {
            throw ConfigError(key: "attention_bias", reason: "is true; only bias-free projections are supported")
        }

        rmsNormEps = Float(try double("rms_norm_eps", default: 1e-6))
        guard rmsNormEps > 0 else { throw ConfigError(key: "rms_norm_eps", reason: "must be positive") }
        ropeTheta = try double("rope_theta", default: 10000)
        guard ropeTheta > 1 else { throw ConfigError(key: "rope_theta", reason: "must be greater than 1") }
        maxPositionEmbeddings = try int("max_position_embeddings")
        tieWordEmbeddings = try bool("tie_word_embeddings", default: false)
        numNextnPredictLayers = try int("num_nextn_predict_layers", min: 0, default: 0)
        eosTokenId = c["eos_token_id"]?.int

        if let r = c["rope_scaling"], !r.isNull {
            ropeScaling = try Self.yarn(r, maxPositionEmbeddings: maxPositionEmbeddings)
        } else {
            ropeScaling = nil
        }

        if let q = c["quantization_config"], !q.isNull {
            switch q["quant_method"]?.string {
            case "fp8":
                if let fmt = q["fmt"]?.string, fmt != "e4m3" {
                    throw ConfigError(key: "quantization_config.fmt", reason: "is \"\(fmt)\"; only \"e4m3\" is supported")
                }
                let block = q["weight_block_size"]?.array?.compactMap(\.int)
                guard block == [fp8Block, fp8Block] else {
                    throw ConfigError(key: "quantization_config.weight_block_size", reason: "must be [\(fp8Block), \(fp8Block)]")
                }
                quantization = .blockFP8
            case "compressed-tensors":
                quantization = .compressedTensors(try CompressedTensorsConfig(q))
            default:
                throw ConfigError(
                    key: "quantization_config.quant_method",
                    reason:
                        "is \(q["quant_method"].map { JSONWriter().string($0) } ?? "missing"); supported: \"fp8\" and \"compressed-tensors\""
                )
            }
        } else {
            quantization = .none
        }
    }

    /// transformers' `_compute_yarn_parameters` reading of rope_scaling, including its quirks:
    /// a missing factor is max_position_embeddings / original, a zero beta falls back to 32 / 1.
    static func yarn(_ r: JSONValue, maxPositionEmbeddings: Int) throws -> YarnScaling? {
        guard r.object != nil else { throw ConfigError(key: "rope_scaling", reason: "must be an object or null") }
        let type = r["type"]?.string ?? r["rope_type"]?.string ?? "default"
        if type == "default" { return nil }
        guard type == "yarn" else {
            throw ConfigError(key: "rope_scaling.type", reason: "is \"\(type)\"; only \"yarn\" (or no rope_scaling) is supported")
        }
        func number(_ key: String) throws -> Double? {
            guard let v = r[key], !v.isNull else { return nil }
            guard let d = v.double, d.isFinite else { throw ConfigError(key: "rope_scaling.\(key)", reason: "must be a number") }
            return d
        }
        guard let original = r["original_max_position_embeddings"]?.int, original > 0 else {
            throw ConfigError(key: "rope_scaling.original_max_position_embeddings", reason: "must be a positive integer for yarn")
        }
        let factor = try number("factor") ?? Double(maxPositionEmbeddings) / Double(original)
        guard factor > 0 else { throw ConfigError(key: "rope_scaling.factor", reason: "must be positive") }
        let betaFast = try number("beta_fast") ?? 0
        let betaSlow = try number("beta_slow") ?? 0
        return YarnScaling(
            factor: factor, originalMaxPositionEmbeddings: original,
            betaFast: betaFast == 0 ? 32 : betaFast, betaSlow: betaSlow == 0 ? 1 : betaSlow,
            mscale: try number("mscale"), mscaleAllDim: try number("mscale_all_dim"),
            attentionFactor: try number("attention_factor"),
            truncate: r["truncate"]?.bool ?? true)
    }
}
