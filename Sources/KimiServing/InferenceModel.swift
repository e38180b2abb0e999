import KimiModel

/// What the engine needs from a model: one sequence's cached tokens and the logits after
/// appending more. `TransformerSequence` runs Kimi K2; tests script tokens with a stand-in.
public protocol InferenceModel: AnyObject {
    var vocabSize: Int { get }
    /// Most tokens the sequence can hold (prompt and completion).
    var capacity: Int { get }
    /// Tokens one forward call computes together; longer prompts go in chunks of this size.
    var chunkSize: Int { get }
    /// Tokens whose KV is in the cache, in order.
    var cachedTokens: [Int] { get }
    /// Drops cached tokens from `count` on.
    func truncate(to count: Int)
    /// Runs `tokens` after the cached ones; writes the logits of the last one (vocabSize).
    func append(_ tokens: [Int], logits: UnsafeMutablePointer<Float>?) throws
    /// Calls `handler` as computation progresses (after each layer), from the engine thread.
    func onProgress(_ handler: @escaping () -> Void)
}

/// Kimi K2 with one latent KV cache.
public final class TransformerSequence: InferenceModel {
    public let transformer: KimiTransformer
    let cache: KVCache
    public private(set) var cachedTokens: [Int] = []

    public init(transformer: KimiTransformer, capacity: Int, kvDType: KVCache.DType = .bf16) {
        self.transformer = transformer
        cache = transformer.makeCache(capacity: capacity, dtype: kvDType)
    }

    public var vocabSize: Int { transformer.config.vocabSize }
    public var capacity: Int { cache.capacity }
    public var chunkSize: Int { transformer.maxBatchTokens }

    public func truncate(to count: Int) {
        cache.truncate(to: count)
        cachedTokens.removeLast(cachedTokens.count - min(count, cachedTokens.count))
    }

    public func append(_ tokens: [Int], logits: UnsafeMutablePointer<Float>?) throws {
        try transformer.forward(tokens, cache: cache, logits: logits)
        cachedTokens += tokens
    }

    public func onProgress(_ handler: @escaping () -> Void) { transformer.layerDone = handler }
}
