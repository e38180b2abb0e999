import KimiKernels

/// The checkpoint's tensors bound to the places the forward pass reads them. Matrices point
/// into the mapped shards in their stored dtype; only the small vectors (norm weights, router
/// bias) are converted to Float, once, at load.
public struct ModelWeights: Sendable {
    public struct Attention: Sendable {
        /// q_lora_rank set: q_a (qLoraRank, hidden), its norm (qLoraRank), q_b (heads·qkHeadDim, qLoraRank).
        public let qA: WeightMatrix?
        public let qANorm: [Float]?
        public let qB: WeightMatrix?
        /// q_lora_rank null: q_proj (heads·qkHeadDim, hidden).
        public let q: WeightMatrix?
        /// (kvLoraRank + qkRopeHeadDim, hidden)
        public let kvA: WeightMatrix
        /// (kvLoraRank)
        public let kvANorm: [Float]
        /// (heads·(qkNopeHeadDim + vHeadDim), kvLoraRank): per head W_UK rows then W_UV rows.
        public let kvB: WeightMatrix
        /// (hidden, heads·vHeadDim)
        public let o: WeightMatrix
    }

    public struct MLP: Sendable {
        /// (inter, hidden), (inter, hidden), (hidden, inter)
        public let gate: WeightMatrix, up: WeightMatrix, down: WeightMatrix
    }

    public struct MoE: Sendable {
        /// (nRoutedExperts, hidden)
        public let router: WeightMatrix
        /// (nRoutedExperts): added to the scores for choosing experts only.
        public let correctionBias: [Float]
        public let experts: [MLP]
        /// nSharedExperts > 0: one MLP of intermediate size moeIntermediateSize · nSharedExperts.
        public let shared: MLP?
    }

    public enum FFN: Sendable {
        case dense(MLP)
        case moe(MoE)
    }

    public struct Layer: Sendable {
        /// (hidden), (hidden)
        public let inputNorm: [Float], postAttentionNorm: [Float]
        public let attention: Attention
        public let ffn: FFN
    }

    /// (vocab, hidden)
    public let embedding: WeightMatrix
    public let layers: [Layer]
    /// (hidden)
    public let norm: [Float]
    /// (vocab, hidden); the embedding when tie_word_embeddings.
    public let lmHead: WeightMatrix

    /// Binds every tensor of the manifest; throws `CheckpointError.invalidTensors` listing all
    /// problems if the checkpoint does not match its config.
    public init(checkpoint: Checkpoint) throws {
        let problems = TensorManifest.problems(checkpoint)
        guard problems.isEmpty else { throw CheckpointError.invalidTensors(problems) }
        let c = checkpoint.config
        /// The manifest by name: the int4 matrices are stored packed, with no tensor of their shape.
        let specs = Dictionary(uniqueKeysWithValues: TensorManifest.tensors(c).map { ($0.name, $0) })
        func matrix(_ name: String) -> WeightMatrix {
            let spec = specs[name]!, module = TensorManifest.module(name)
            let format = spec.kind == .linear ? TensorManifest.linearFormat(name, c) : .unquantised
            if case let .int4(groupSize) = format {
                let scale = checkpoint.info(module + ".weight_scale")!
                let dtype: Int4Scales.DType = scale.dtype == .bf16 ? .bf16 : scale.dtype == .f16 ? .f16 : .f32
                return WeightMatrix(
                    rows: spec.shape[0], cols: spec.shape[1], data: checkpoint.pointer(module + ".weight_packed")!,
                    storage: .int4(
                        Int4Scales(
                            scales: checkpoint.pointer(module + ".weight_scale")!, dtype: dtype, groupSize: groupSize ?? spec.shape[1])))
            }
            let info = checkpoint.info(name)!
            let scale = format == .fp8Block ? module + ".weight_scale" : name + TensorManifest.scaleSuffix
            return WeightMatrix(
                rows: info.shape[0], cols: info.shape[1], data: checkpoint.pointer(name)!,
                storage: info.dtype == .f8e4m3 ? .fp8(scales: checkpoint.pointer(scale)!) : .float(info.dtype))
        }
        /// A 1-D tensor (norm weights, the router's bias) as Float.
        func vector(_ name: String) -> [Float] {
            let info = checkpoint.info(name)!, n = info.elementCount
            let row = WeightMatrix(rows: 1, cols: n, data: checkpoint.pointer(name)!, storage: .float(info.dtype))
            return [Float](unsafeUninitializedCapacity: n) { values, count in
                row.row(0, into: values.baseAddress!)
                count = n
            }
        }
        func mlp(_ prefix: String) -> MLP {
            MLP(
                gate: matrix(prefix + "gate_proj.weight"), up: matrix(prefix + "up_proj.weight"),
                down: matrix(prefix + "down_proj.weight"))
        }
        embedding = matrix("model.embed_tokens.weight")
        layers = (0..<c.numHiddenLayers).map { layer in
            let p = "model.layers.\(layer)."
            let lora = c.qLoraRank != nil
            let attention = Attention(
                qA: lora ? matrix(p + "self_attn.q_a_proj.weight") : nil,
                qANorm: lora ? vector(p + "self_attn.q_a_layernorm.weight") : nil,
                qB: lora ? matrix(p + "self_attn.q_b_proj.weight") : nil,
                q: lora ? nil : matrix(p + "self_attn.q_proj.weight"),
                kvA: matrix(p + "self_attn.kv_a_proj_with_mqa.weight"),
                kvANorm: vector(p + "self_attn.kv_a_layernorm.weight"),
                kvB: matrix(p + "self_attn.kv_b_proj.weight"),
                o: matrix(p + "self_attn.o_proj.weight"))
            let ffn: FFN
            if c.isMoE(layer: layer) {
                ffn = .moe(
                    MoE(
                        router: matrix(p + "mlp.gate.weight"),
                        correctionBias: vector(p + "mlp.gate.e_score_correction_bias"),
                        experts: (0..<c.nRoutedExperts).map { mlp(p + "mlp.experts.\($0).") },
                        shared: c.nSharedExperts > 0 ? mlp(p + "mlp.shared_experts.") : nil))
            } else {
                ffn = .dense(mlp(p + "mlp."))
            }
            return Layer(
                inputNorm: vector(p + "input_layernorm.weight"),
                postAttentionNorm: vector(p + "post_attention_layernorm.weight"),
                attention: attention, ffn: ffn)
        }
        norm = vector("model.norm.weight")
        lmHead = c.tieWordEmbeddings ? embedding : matrix("lm_head.weight")
    }
}

extension WeightMatrix.Storage {
    /// The storage of an unquantised tensor of `dtype` (BF16, F16, else F32: the manifest
    /// admits no other float dtype).
    static func float(_ dtype: DType) -> WeightMatrix.Storage {
        dtype == .bf16 ? .bf16 : dtype == .f16 ? .f16 : .f32
    }
}
