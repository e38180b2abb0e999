/// What `inspect` reports: sizes derived from the config and the checkpoint, and the memory
/// plan (mapped weights, bytes one decode step streams, KV cache per token).
public struct ModelSummary: Sendable {
    public let config: ModelConfig
    public let shardCount: Int
    public let tensorCount: Int
    /// Parameters of the model proper (the manifest), MTP layers excluded.
    public let totalParameters: Int
    /// Parameters a token runs through: everything but the routed experts it is not routed to
    /// (the embedding counted whole, as model cards do).
    public let activeParameters: Int
    /// Parameters of skipped multi-token-prediction layers.
    public let mtpParameters: Int
    /// Bytes of the manifest's tensors as stored (quantised codes with their scales).
    public let weightBytes: Int
    /// Bytes of all shard files: what the page cache must hold.
    public let mappedBytes: Int
    /// Weight bytes one decode step reads: every non-routed matrix, one embedding row and the
    /// k chosen experts of each MoE layer.
    public let decodeBytesPerToken: Int
    /// Latent KV cache bytes per token over all layers, for bf16 and f32 storage.
    public let kvBytesPerTokenBF16: Int
    public let kvBytesPerTokenF32: Int

    /// The weights by part of the model and storage format, in manifest order.
    public let formats: [FormatShare]

    /// Bytes of one part of the model (routed experts, attention, …) stored in one format.
    public struct FormatShare: Sendable, Equatable {
        public let part: String
        /// "BF16", "block-fp8 (F32 scales)", "int4 group 32 (BF16 scales)", …
        public let format: String
        public var bytes: Int
        /// Of those, the bytes one decode step reads.
        public var decodeBytes: Int
    }

    public init(checkpoint: Checkpoint) {
        let c = checkpoint.config
        config = c
        shardCount = checkpoint.shards.count
        tensorCount = checkpoint.tensors.count
        var total = 0, routed = 0
        var shares: [FormatShare] = [], index: [String: Int] = [:]
        let activeFraction = c.nRoutedExperts == 0 ? 0 : Double(c.numExpertsPerTok) / Double(c.nRoutedExperts)
        for spec in TensorManifest.tensors(c) {
            total += spec.elementCount
            let names = TensorManifest.storedNames(spec, c)
            let stored = names.reduce(0) { $0 + (checkpoint.info($1)?.byteCount ?? 0) }
            let decode: Double
            if spec.routedExpert {
                routed += spec.elementCount
                decode = Double(stored) * activeFraction
            } else if spec.name == "model.embed_tokens.weight" {
                // One row per token, and the whole matrix when it is also lm_head.
                decode = Double(stored / max(c.vocabSize, 1) + (c.tieWordEmbeddings ? stored : 0))
            } else {
                decode = Double(stored)
            }
            let part = Self.part(spec), format = Self.format(spec, names, checkpoint), key = part + "\u{0}" + format
            if index[key] == nil {
                index[key] = shares.count
                shares.append(FormatShare(part: part, format: format, bytes: 0, decodeBytes: 0))
            }
            shares[index[key]!].bytes += stored
            shares[index[key]!].decodeBytes += Int(decode.rounded())
        }
        totalParameters = total
        activeParameters = total - routed + Int((Double(routed) * activeFraction).rounded())
        formats = shares
        decodeBytesPerToken = shares.reduce(0) { $0 + $1.decodeBytes }
        weightBytes = shares.reduce(0) { $0 + $1.bytes }
        mtpParameters = checkpoint.tensors.values
            .filter { TensorManifest.isMTP($0.info.name, c) && !Self.isCompanion($0.info.name) }
            .reduce(0) { $0 + $1.info.elementCount }
        mappedBytes = checkpoint.mappedBytes
        kvBytesPerTokenBF16 = KVCache.bytesPerToken(c, dtype: .bf16)
        kvBytesPerTokenF32 = KVCache.bytesPerToken(c, dtype: .f32)
    }

    /// Scales and shapes stored beside a weight (not parameters of their own).
    static func isCompanion(_ name: String) -> Bool {
        name.hasSuffix(TensorManifest.scaleSuffix) || name.hasSuffix(".weight_scale") || name.hasSuffix(".weight_shape")
    }

    /// Which part of the model a manifest tensor belongs to.
    static func part(_ spec: TensorSpec) -> String {
        let n = spec.name
        if n == "model.embed_tokens.weight" { return "embedding" }
        if n == "lm_head.weight" { return "lm_head" }
        if spec.kind == .float { return n.contains(".mlp.gate.") ? "router" : "norms" }
        if n.contains(".self_attn.") { return "attention" }
        if n.contains(".mlp.experts.") { return "routed experts" }
        if n.contains(".mlp.shared_experts.") { return "shared experts" }
        return "dense mlp"
    }

    /// How a manifest tensor is stored in this checkpoint (names: its `storedNames`).
    static func format(_ spec: TensorSpec, _ names: [String], _ checkpoint: Checkpoint) -> String {
        let c = checkpoint.config
        let scale = names.count > 1 ? checkpoint.info(names[1]).map { " (\($0.dtype.rawValue) scales)" } ?? "" : ""
        if spec.kind == .linear, case let .int4(groupSize) = TensorManifest.linearFormat(spec.name, c) {
            return "int4 " + (groupSize.map { "group \($0)" } ?? "channel") + scale
        }
        guard let info = checkpoint.info(spec.name) else { return "missing" }
        return info.dtype == .f8e4m3 ? "block-fp8" + scale : info.dtype.rawValue
    }
}
