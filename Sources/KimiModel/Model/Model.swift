import Foundation

/// The Kimi K2 / DeepSeek-V3 forward pass on CPU with float32 activations, in the order of
/// transformers' DeepseekV3ForCausalLM (spec §3):
///
///     h = embed(tokens)
///     for each layer:  h += MLA(RMSNorm(h));  h += (dense MLP or MoE)(RMSNorm(h))
///     logits = lm_head(RMSNorm(h))
///
/// Weights stay in their checkpoint dtype (block-fp8 is decoded inside the kernels); the
/// attention keeps only the compressed latent cache and absorbs W_UK / W_UV into the query and
/// output (spec §3.6). A batch of tokens is a prefill chunk: every token's row is computed with
/// the same arithmetic as if it ran alone.
public final class KimiTransformer {
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    let weights: ModelWeights
    let rope: RotaryEmbedding
    let router: MoERouter
    let ws: Workspace
    /// Splits every matrix by output rows (and attention by heads) across cores.
    public let pool: ThreadPool

    /// Largest number of tokens one pass computes together; longer inputs run in chunks.
    public var maxBatchTokens: Int { ws.maxTokens }
    /// Longest sequence a cache may hold with this model instance.
    public let maxContext: Int
    /// Called after every layer of every forward pass (the engine's heartbeat).
    public var layerDone: (() -> Void)?

    /// - threads: compute threads (the caller's plus `threads - 1` workers); results do not
    ///   depend on it.
    public init(checkpoint: Checkpoint, maxBatchTokens: Int = 64, maxContext: Int? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        config = checkpoint.config
        self.checkpoint = checkpoint
        weights = try ModelWeights(checkpoint: checkpoint)
        rope = RotaryEmbedding(config: config)
        router = MoERouter(config: config)
        self.maxContext = maxContext ?? config.maxPositionEmbeddings
        pool = ThreadPool(threads: threads)
        ws = Workspace(config: config, router: router, maxTokens: max(maxBatchTokens, 1), contextCapacity: self.maxContext,
                       threads: pool.threads)
    }

    public convenience init(directory: String, maxBatchTokens: Int = 64, maxContext: Int? = nil,
                            threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        try self.init(checkpoint: try Checkpoint(directory: directory), maxBatchTokens: maxBatchTokens, maxContext: maxContext,
                      threads: threads)
    }

    /// A cache for one sequence; f32 keeps the parity tests exact, bf16 halves the memory.
    public func makeCache(capacity: Int? = nil, dtype: KVCache.DType = .f32) -> KVCache {
        KVCache(config: config, capacity: min(capacity ?? maxContext, maxContext), dtype: dtype)
    }

    /// Runs `tokens` at positions cache.count ..< cache.count + tokens.count, appending their
    /// latent KV entries to the cache.
    /// - logits: nil, or (tokens.count, vocab) when `allPositions`, else (vocab) for the last token.
    public func forward(_ tokens: [Int], cache: KVCache, logits: UnsafeMutablePointer<Float>?, allPositions: Bool = false) throws {
        guard cache.count + tokens.count <= cache.capacity else {
            throw ForwardError.contextFull(needed: cache.count + tokens.count, capacity: cache.capacity)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ForwardError.tokenOutOfRange(token: bad, vocabSize: config.vocabSize)
        }
        var done = 0
        while done < tokens.count {
            let n = min(ws.maxTokens, tokens.count - done)
            let isLast = done + n == tokens.count
            let rows: Range<Int>? = allPositions ? 0..<n : (isLast ? n - 1..<n : nil)
            let out = logits.map { allPositions ? $0 + done * config.vocabSize : $0 }
            forwardChunk(Array(tokens[done..<done + n]), cache: cache, logitRows: rows, logits: out)
            done += n
        }
    }

    /// Convenience for tools and tests: the logits of every position, (tokens.count × vocab).
    public func logits(_ tokens: [Int], cache: KVCache) throws -> [Float] {
        var out = [Float](repeating: 0, count: tokens.count * config.vocabSize)
        try out.withUnsafeMutableBufferPointer { try forward(tokens, cache: cache, logits: $0.baseAddress!, allPositions: true) }
        return out
    }

    private func forwardChunk(_ tokens: [Int], cache: KVCache, logitRows: Range<Int>?, logits: UnsafeMutablePointer<Float>?) {
        let c = config, d = c.hiddenSize, T = tokens.count
        let start = cache.count
        let half = c.qkRopeHeadDim / 2
        for t in 0..<T {
            weights.embedding.row(tokens[t], into: ws.x + t * d)
            rope.table(position: start + t, cos: ws.ropeCos + t * half, sin: ws.ropeSin + t * half)
        }
        for (l, layer) in weights.layers.enumerated() {
            for t in 0..<T { rmsNorm(ws.xn + t * d, ws.x + t * d, layer.inputNorm, n: d, eps: c.rmsNormEps) }
            attention(layer.attention, layer: l, tokens: T, start: start, cache: cache)
            for i in 0..<T * d { ws.x[i] += ws.out[i] }

            for t in 0..<T { rmsNorm(ws.xn + t * d, ws.x + t * d, layer.postAttentionNorm, n: d, eps: c.rmsNormEps) }
            switch layer.ffn {
            case let .dense(mlp):
                self.mlp(mlp, ws.xn, tokens: T, into: ws.out)
            case let .moe(moe):
                self.moe(moe, tokens: T)
            }
            for i in 0..<T * d { ws.x[i] += ws.out[i] }
            layerDone?()
        }
        cache.count = start + T
        guard let logitRows, let logits else { return }
        for (i, t) in logitRows.enumerated() {
            rmsNorm(ws.xn + i * d, ws.x + t * d, weights.norm, n: d, eps: c.rmsNormEps)
        }
        linear(weights.lmHead, ws.xn, tokens: logitRows.count, into: logits)
    }

    /// y (tokens, w.rows) = W · x (tokens, w.cols), rows split across the pool.
    func linear(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        let prepared = w.prepare(x, count: tokens * w.cols, scratch: ws.prepared)
        let ws = ws
        pool.parallelFor(w.rows, align: 12) { part, rows in
            let p = ws.parts[part]
            w.multiply(y + rows.lowerBound, yStride: w.rows, prepared: prepared, tokens: tokens, rows: rows,
                       tile: p.tile, accumulators: p.accumulators)
        }
    }
}

public enum ForwardError: Error, CustomStringConvertible, Equatable {
    case contextFull(needed: Int, capacity: Int)
    case tokenOutOfRange(token: Int, vocabSize: Int)

    public var description: String {
        switch self {
        case let .contextFull(needed, capacity):
            return "the sequence needs \(needed) positions but the KV cache holds \(capacity)"
        case let .tokenOutOfRange(token, vocabSize):
            return "token id \(token) is outside the vocabulary (0..<\(vocabSize))"
        }
    }
}
