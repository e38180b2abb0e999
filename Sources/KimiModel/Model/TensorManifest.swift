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

    /// How a linear layer's weight `name` is stored, as config.json says.
    public enum LinearFormat: Sendable, Equatable {
        /// Without compressed-tensors, by the tensor's dtype: F8_E4M3 with an F32 `<name>_scale_inv`
        /// per 128×128 block (DeepSeek's block-fp8), or BF16 / F16 / F32.
        case byDType
        /// compressed-tensors, in `ignore` or targeted by no group: `<name>` in BF16 / F16 / F32.
        case unquantised
        /// compressed-tensors float-quantized: `<name>` F8_E4M3 with an F32 `<module>.weight_scale`
        /// per 128×128 block.
        case fp8Block
        /// compressed-tensors pack-quantized int4: `<module>.weight_packed`, `.weight_scale` and
        /// `.weight_shape` in place of `<name>`.
        case int4(groupSize: Int?)
    }

    public static func linearFormat(_ name: String, _ c: ModelConfig) -> LinearFormat {
        guard case let .compressedTensors(ct) = c.quantization else { return .byDType }
        switch ct.scheme(forModule: module(name)) {
        case nil: return .unquantised
        case .fp8Block: return .fp8Block
        case let .int4(groupSize): return .int4(groupSize: groupSize)
        }
    }

    /// A weight's module: its name without ".weight".
    static func module(_ name: String) -> String { name.hasSuffix(".weight") ? String(name.dropLast(7)) : name }

    /// The names of the tensors that hold a manifest tensor in this checkpoint: the weight (or
    /// its packed codes) and any scales and shape.
    public static func storedNames(_ spec: TensorSpec, _ c: ModelConfig) -> [String] {
        guard spec.kind == .linear else { return [spec.name] }
        let m = module(spec.name)
        switch linearFormat(spec.name, c) {
        case .byDType: return [spec.name, spec.name + scaleSuffix]
        case .unquantised: return [spec.name]
        case .fp8Block: return [spec.name, m + ".weight_scale"]
        case .int4: return [m + ".weight_packed", m + ".weight_scale", m + ".weight_shape"]
        }
    }

    /// Every way the checkpoint differs from the manifest: missing, mis-shaped, wrongly typed
    /// and unexpected tensors (MTP layers excepted), in manifest order then name order.
    public static func problems(_ checkpoint: Checkpoint) -> [TensorProblem] {
        let c = checkpoint.config
        var problems: [TensorProblem] = []
        var expected = Set<String>()
        /// The tensor `name` if present with `shape` and one of `dtypes`, else its problems.
        func check(_ name: String, _ shape: [Int], _ dtypes: [DType], _ expectedDTypes: String) -> TensorInfo? {
            expected.insert(name)
            guard let info = checkpoint.info(name) else {
                problems.append(.missing(name: name))
                return nil
            }
            if info.shape != shape { problems.append(.wrongShape(name: name, expected: shape, actual: info.shape)) }
            if !dtypes.contains(info.dtype) { problems.append(.wrongDType(name: name, expected: expectedDTypes, actual: info.dtype)) }
            return info
        }
        let floats: [DType] = [.bf16, .f16, .f32]
        for spec in tensors(c) {
            let rows = spec.shape[0], cols = spec.shape.count > 1 ? spec.shape[1] : 1
            let blocks = [(rows + fp8Block - 1) / fp8Block, (cols + fp8Block - 1) / fp8Block]
            let m = module(spec.name)
            switch spec.kind == .linear ? linearFormat(spec.name, c) : .unquantised {
            case .unquantised:
                _ = check(
                    spec.name, spec.shape, floats,
                    spec.kind == .float ? "BF16, F16 or F32" : "BF16, F16 or F32 (not quantised by its config)")
            case .fp8Block:
                _ = check(spec.name, spec.shape, [.f8e4m3], "F8_E4M3")
                _ = check(m + ".weight_scale", blocks, [.f32], "F32")
            case let .int4(groupSize):
                let group = groupSize ?? cols
                _ = check(m + ".weight_packed", [rows, (cols + 7) / 8], [.i32], "I32")
                _ = check(m + ".weight_scale", [rows, (cols + group - 1) / group], floats, "BF16, F16 or F32")
                if cols % group != 0 {
                    problems.append(
                        .invalid(name: m + ".weight_packed", reason: "\(cols) columns are not a multiple of group_size \(group)"))
                }
                if let info = check(m + ".weight_shape", [2], [.i32, .i64], "I32 or I64"), info.shape == [2],
                    let p = checkpoint.pointer(m + ".weight_shape")
                {
                    let values = (0..<2).map {
                        info.dtype == .i32
                            ? Int(p.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))
                            : Int(p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))
                    }
                    if values != spec.shape {
                        problems.append(.invalid(name: m + ".weight_shape", reason: "holds \(values), expected \(spec.shape)"))
                    }
                }
            case .byDType:
                expected.insert(spec.name)
                guard let info = checkpoint.info(spec.name) else {
                    problems.append(.missing(name: spec.name))
                    continue
                }
                if info.shape != spec.shape {
                    problems.append(.wrongShape(name: spec.name, expected: spec.shape, actual: info.shape))
                }
                switch info.dtype {
                case .bf16, .f16, .f32: break
                case .f8e4m3: _ = check(spec.name + scaleSuffix, blocks, [.f32], "F32")
                default:
                    problems.append(
                        .wrongDType(name: spec.name, expected: "F8_E4M3 (with _scale_inv), BF16, F16 or F32", actual: info.dtype))
                }
            }
        }
        for name in checkpoint.tensors.keys.sorted() where !expected.contains(name) && !isMTP(name, c) {
            problems.append(.unexpected(name: name))
        }
        return problems
    }
}
