import KimiKernels

/// Every tensor the architecture reads, by its Hugging Face name (as in Kimi K2's model.safetensors.index.json), derived from the
/// config alone: the checkpoint is checked against this list, never the other way round.
public struct TensorSpec: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A projection: F8_E4M3 with an F32 `<name>_scale_inv` [ceil(rows/128), ceil(cols/128)],
        /// or BF16 / F16 / F32 without one.
        case linear
        /// Embeddings, lm_head, norms, the router: BF16 / F16 / F32.
        case float
    }

    public let name: String
    public let shape: [Int]
    public let kind: Kind
    /// Which weights a token reads: the routed experts are read only by the tokens routed to them.
    public let routedExpert: Bool

    public var elementCount: Int { shape.reduce(1, *) }
}

public enum TensorManifest {
    public static func tensors(_ c: ModelConfig) -> [TensorSpec] {
        var out: [TensorSpec] = []
        func add(_ name: String, _ shape: [Int], _ kind: TensorSpec.Kind, expert: Bool = false) {
            out.append(TensorSpec(name: name, shape: shape, kind: kind, routedExpert: expert))
        }
        func mlp(_ prefix: String, _ inter: Int, expert: Bool = false) {
            add(prefix + "gate_proj.weight", [inter, c.hiddenSize], .linear, expert: expert)
            add(prefix + "up_proj.weight", [inter, c.hiddenSize], .linear, expert: expert)
            add(prefix + "down_proj.weight", [c.hiddenSize, inter], .linear, expert: expert)
        }
        let h = c.hiddenSize, heads = c.numAttentionHeads
        add("model.embed_tokens.weight", [c.vocabSize, h], .float)
        for layer in 0..<c.numHiddenLayers {
            let p = "model.layers.\(layer)."
            add(p + "input_layernorm.weight", [h], .float)
            add(p + "post_attention_layernorm.weight", [h], .float)
            if let rank = c.qLoraRank {
                add(p + "self_attn.q_a_proj.weight", [rank, h], .linear)
                add(p + "self_attn.q_a_layernorm.weight", [rank], .float)
                add(p + "self_attn.q_b_proj.weight", [heads * c.qkHeadDim, rank], .linear)
            } else {
                add(p + "self_attn.q_proj.weight", [heads * c.qkHeadDim, h], .linear)
            }
            add(p + "self_attn.kv_a_proj_with_mqa.weight", [c.kvLoraRank + c.qkRopeHeadDim, h], .linear)
            add(p + "self_attn.kv_a_layernorm.weight", [c.kvLoraRank], .float)
            add(p + "self_attn.kv_b_proj.weight", [heads * (c.qkNopeHeadDim + c.vHeadDim), c.kvLoraRank], .linear)
            add(p + "self_attn.o_proj.weight", [h, heads * c.vHeadDim], .linear)
            if c.isMoE(layer: layer) {
                add(p + "mlp.gate.weight", [c.nRoutedExperts, h], .float)
                add(p + "mlp.gate.e_score_correction_bias", [c.nRoutedExperts], .float)
                for e in 0..<c.nRoutedExperts {
                    mlp(p + "mlp.experts.\(e).", c.moeIntermediateSize, expert: true)
                }
                if c.nSharedExperts > 0 {
                    mlp(p + "mlp.shared_experts.", c.moeIntermediateSize * c.nSharedExperts)
                }
            } else {
                mlp(p + "mlp.", c.intermediateSize)
            }
        }
        add("model.norm.weight", [h], .float)
        if !c.tieWordEmbeddings {
            add("lm_head.weight", [c.vocabSize, h], .float)
        }
        return out
    }

    /// Whether a tensor belongs to a multi-token-prediction layer (stored after the last layer,
    /// as DeepSeek-V3's layer 61): recognised and skipped.
    public static func isMTP(_ name: String, _ c: ModelConfig) -> Bool {
        guard c.numNextnPredictLayers > 0, name.hasPrefix("model.layers.") else { return false }
        let rest = name.dropFirst("model.layers.".count)
        guard let layer = Int(rest.prefix { $0 != "." }) else { return false }
        return layer >= c.numHiddenLayers && layer < c.numHiddenLayers + c.numNextnPredictLayers
    }

    public static let scaleSuffix = "_scale_inv"

    /// Every way the checkpoint differs from the manifest: missing, mis-shaped, wrongly typed
    /// and unexpected tensors (MTP layers excepted), in manifest order then name order.
    public static func problems(_ checkpoint: Checkpoint) -> [TensorProblem] {
        let c = checkpoint.config
        var problems: [TensorProblem] = []
        var expected = Set<String>()
        for spec in tensors(c) {
            expected.insert(spec.name)
            guard let info = checkpoint.info(spec.name) else {
                problems.append(.missing(name: spec.name))
                continue
            }
            if info.shape != spec.shape {
                problems.append(.wrongShape(name: spec.name, expected: spec.shape, actual: info.shape))
            }
            switch (spec.kind, info.dtype) {
            case (_, .bf16), (_, .f16), (_, .f32):
                break
            case (.linear, .f8e4m3):
                let scaleName = spec.name + scaleSuffix
                expected.insert(scaleName)
                let scaleShape = [(spec.shape[0] + fp8Block - 1) / fp8Block, (spec.shape[1] + fp8Block - 1) / fp8Block]
                guard let scale = checkpoint.info(scaleName) else {
                    problems.append(.missing(name: scaleName))
                    continue
                }
                if scale.shape != scaleShape {
                    problems.append(.wrongShape(name: scaleName, expected: scaleShape, actual: scale.shape))
                }
                if scale.dtype != .f32 {
                    problems.append(.wrongDType(name: scaleName, expected: "F32", actual: scale.dtype))
                }
            case (.linear, _):
                problems.append(.wrongDType(name: spec.name, expected: "F8_E4M3 (with _scale_inv), BF16, F16 or F32", actual: info.dtype))
            case (.float, _):
                problems.append(.wrongDType(name: spec.name, expected: "BF16, F16 or F32", actual: info.dtype))
            }
        }
        for name in checkpoint.tensors.keys.sorted() where !expected.contains(name) && !isMTP(name, c) {
            problems.append(.unexpected(name: name))
        }
        return problems
    }
}
