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
    /// Bytes of the manifest's tensors as stored (fp8 codes and their scales).
    public let weightBytes: Int
    /// Bytes of all shard files: what the page cache must hold.
    public let mappedBytes: Int
    /// Weight bytes one decode step reads: every non-routed matrix, one embedding row and the
    /// k chosen experts of each MoE layer.
    public let decodeBytesPerToken: Int
    /// Latent KV cache bytes per token over all layers, for bf16 and f32 storage.
    public let kvBytesPerTokenBF16: Int
    public let kvBytesPerTokenF32: Int

    public init(checkpoint: Checkpoint) {
        let c = checkpoint.config
        config = c
        shardCount = checkpoint.shards.count
        tensorCount = checkpoint.tensors.count
        var total = 0, routed = 0, bytes = 0, routedBytes = 0, decode = 0
        for spec in TensorManifest.tensors(c) {
            total += spec.elementCount
            var stored = checkpoint.info(spec.name)?.byteCount ?? 0
            stored += checkpoint.info(spec.name + TensorManifest.scaleSuffix)?.byteCount ?? 0
            bytes += stored
            if spec.routedExpert {
                routed += spec.elementCount
                routedBytes += stored
            } else if spec.name == "model.embed_tokens.weight" {
                decode += stored / max(c.vocabSize, 1)
                if c.tieWordEmbeddings { decode += stored }  // read whole as lm_head
            } else {
                decode += stored
            }
        }
        let activeFraction = c.nRoutedExperts == 0 ? 0 : Double(c.numExpertsPerTok) / Double(c.nRoutedExperts)
        totalParameters = total
        activeParameters = total - routed + Int((Double(routed) * activeFraction).rounded())
        decodeBytesPerToken = decode + Int((Double(routedBytes) * activeFraction).rounded())
        weightBytes = bytes
        mtpParameters = checkpoint.tensors.values
            .filter { TensorManifest.isMTP($0.info.name, c) && !$0.info.name.hasSuffix(TensorManifest.scaleSuffix) }
            .reduce(0) { $0 + $1.info.elementCount }
        mappedBytes = checkpoint.mappedBytes
        kvBytesPerTokenBF16 = KVCache.bytesPerToken(c, dtype: .bf16)
        kvBytesPerTokenF32 = KVCache.bytesPerToken(c, dtype: .f32)
    }
}
