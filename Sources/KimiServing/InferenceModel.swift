import KimiModel

/// One sequence's KV state inside a model: the entries of its first `count` tokens.
public protocol SequenceCache: AnyObject {
    var count: Int { get }
    var capacity: Int { get }
    /// Forgets every token from `count` on.
    func truncate(to count: Int)
    /// Makes this (empty) cache hold the first `count` entries of `source`.
    func copyPrefix(of source: Self, count: Int)
}

/// What the engine needs from a model: caches for sequences, and one batched pass that
/// extends several of them at once. `TransformerModel` runs Kimi K2; the tests' stand-ins
/// (Tests/ServingTestSupport) script tokens without computing.
public protocol InferenceModel: AnyObject, SendableMetatype {
    associatedtype Cache: SequenceCache
    var vocabSize: Int { get }
    /// Most tokens one sequence can hold (prompt and completion).
    var maxContext: Int { get }
    /// Most tokens one pass computes, over all its sequences.
    var maxBatchTokens: Int { get }
    /// KV cache bytes per token of a sequence.
    var kvBytesPerToken: Int { get }
    /// A new, empty cache of `maxContext` tokens.
    func makeCache() -> Cache
    /// Runs each segment's tokens after its cache's entries; for the segments whose logits are
    /// `.last`, writes the logits of their last token as consecutive rows (vocabSize each).
    func forward(_ batch: [BatchSegment<Cache>], logits: UnsafeMutablePointer<Float>) throws
    /// Weight bytes and routed experts of the last `forward`.
    var lastPass: PassStatistics { get }
    /// Calls `handler` as computation progresses (after each layer), from the engine thread.
    func onProgress(_ handler: @escaping () -> Void)
}

/// Kimi K2 on a `KimiTransformer`, each sequence with its own latent KV cache.
public final class TransformerModel: InferenceModel {
    public let transformer: KimiTransformer
    let kvDType: KVCache.DType

    public init(transformer: KimiTransformer, kvDType: KVCache.DType = .bf16) {
        self.transformer = transformer
        self.kvDType = kvDType
    }

    public var vocabSize: Int { transformer.config.vocabSize }
    public var maxContext: Int { transformer.maxContext }
    public var maxBatchTokens: Int { transformer.maxBatchTokens }
    public var kvBytesPerToken: Int { KVCache.bytesPerToken(transformer.config, dtype: kvDType) }

    public func makeCache() -> KVCache { transformer.makeCache(dtype: kvDType) }

    public func forward(_ batch: [BatchSegment<KVCache>], logits: UnsafeMutablePointer<Float>) throws {
        try transformer.forward(batch: batch, logits: logits)
    }

    public var lastPass: PassStatistics { transformer.lastPass }

    public func onProgress(_ handler: @escaping () -> Void) { transformer.layerDone = handler }
}

extension KVCache: SequenceCache {}
