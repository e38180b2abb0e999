import Foundation
import KimiKernels

/// The Kimi K2 / DeepSeek-V3 forward pass on CPU with float32 activations, in the order of
/// transformers' DeepseekV3ForCausalLM:
///
///     h = embed(tokens)
///     for each layer:  h += MLA(RMSNorm(h));  h += (dense MLP or MoE)(RMSNorm(h))
///     logits = lm_head(RMSNorm(h))
///
/// Weights stay in their checkpoint dtype (block-fp8 is decoded inside the kernels); the
/// attention keeps only the compressed latent cache and absorbs W_UK / W_UV into the query and
/// output (DeepSeek-V3's absorbed attention). A batch of tokens is a prefill chunk: every token's row is computed with
/// the same arithmetic as if it ran alone.
public final class KimiTransformer {
    public let config: ModelConfig
    public let checkpoint: Checkpoint
    let weights: ModelWeights
    let rope: RotaryEmbedding
    let router: MoERouter
    let ws: Workspace
    /// Runs every matrix product, split by output rows (and attention by heads) across cores.
    let scheduler: ProductScheduler
    /// The compute threads.
    public var pool: ThreadPool { scheduler.pool }
    /// Where the pool's threads run and the weights live (`--numa`).
    public var placement: NUMAPlacement { scheduler.placement }

    /// Largest number of tokens one pass computes together; longer inputs run in chunks.
    public var maxBatchTokens: Int { ws.maxTokens }
    /// Longest sequence a cache may hold with this model instance.
    public let maxContext: Int
    /// Called after every layer of every forward pass (the engine's heartbeat).
    public var layerDone: (() -> Void)?
    /// What the last pass read: weight bytes (every matrix it multiplied, once, and the
    /// embedding rows) and the routed experts it ran, summed over the MoE layers.
    public internal(set) var lastPass = PassStatistics()

    /// - threads: compute threads (the caller's plus `threads - 1` workers); results do not
    ///   depend on it.
    /// - numa: thread and weight placement over `topology` (default: the machine's).
    public init(
        checkpoint: Checkpoint, maxBatchTokens: Int = 64, maxContext: Int? = nil,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, numa: NUMAPolicy = .off,
        topology: NUMATopology? = nil
    ) throws {
        config = checkpoint.config
        self.checkpoint = checkpoint
        weights = try ModelWeights(checkpoint: checkpoint)
        rope = RotaryEmbedding(config: config)
        router = MoERouter(config: config)
        self.maxContext = maxContext ?? config.maxPositionEmbeddings
        let threads = max(threads, 1)
        let placement = NUMAPlacement(
            topology: topology ?? (numa == .off ? .single(cpus: []) : .detect()),
            threads: threads, policy: numa, experts: config.nRoutedExperts)
        // Scratch for the widest products (a batch of tokens through any matrix; every head's
        // query against the cache) and for transposed products over the longest context.
        let c = config, maxTokens = max(maxBatchTokens, 1)
        scheduler = ProductScheduler(
            placement: placement, tokens: max(maxTokens, c.numAttentionHeads), columns: max(c.widestInput, c.kvCacheWidth),
            rows: max(self.maxContext, c.qkNopeHeadDim))
        ws = Workspace(config: config, router: router, maxTokens: maxTokens, contextCapacity: self.maxContext)
    }

    public convenience init(
        directory: String, maxBatchTokens: Int = 64, maxContext: Int? = nil,
        threads: Int = ProcessInfo.processInfo.activeProcessorCount, numa: NUMAPolicy = .off
    ) throws {
        try self.init(
            checkpoint: try Checkpoint(directory: directory), maxBatchTokens: maxBatchTokens, maxContext: maxContext,
            threads: threads, numa: numa)
    }

    /// A cache for one sequence; f32 keeps the parity tests exact, bf16 halves the memory.
    public func makeCache(capacity: Int? = nil, dtype: KVCache.DType = .f32) -> KVCache {
        KVCache(config: config, capacity: min(capacity ?? maxContext, maxContext), dtype: dtype)
    }

    /// Runs `tokens` at positions cache.count ..< cache.count + tokens.count, appending their
    /// latent KV entries to the cache, in passes of at most `maxBatchTokens`.
    /// - logits: nil, or (tokens.count, vocab) when `allPositions`, else (vocab) for the last token.
    public func forward(_ tokens: [Int], cache: KVCache, logits: UnsafeMutablePointer<Float>?, allPositions: Bool = false) throws {
        try check(BatchSegment(tokens: tokens, cache: cache, logits: .none))
        var done = 0
        while done < tokens.count {
            let n = min(ws.maxTokens, tokens.count - done)
            let isLast = done + n == tokens.count
            let rows: LogitRows = logits == nil ? .none : (allPositions ? .all : (isLast ? .last : .none))
            let out = logits.map { allPositions ? $0 + done * config.vocabSize : $0 }
            try forward(batch: [BatchSegment(tokens: Array(tokens[done..<done + n]), cache: cache, logits: rows)], logits: out)
            done += n
        }
    }

    /// One pass over the tokens of several sequences together (continuous batching): each
    /// segment runs after its own cache's entries and appends to it. Every row is computed with
    /// the same arithmetic whatever else shares the pass, so a sequence's logits do not depend
    /// on its batch. At most `maxBatchTokens` tokens in all; every segment has its own cache.
    /// - logits: the requested rows, segment after segment, each (vocab).
    public func forward(batch: [BatchSegment<KVCache>], logits: UnsafeMutablePointer<Float>?) throws {
        let total = batch.reduce(0) { $0 + $1.tokens.count }
        precondition(total <= ws.maxTokens, "a pass holds at most \(ws.maxTokens) tokens")
        precondition(Set(batch.map { ObjectIdentifier($0.cache) }).count == batch.count, "one segment per cache")
        for segment in batch { try check(segment) }
        guard total > 0 else { return }
        forwardPass(batch, tokens: total, logits: logits)
    }

    private func check(_ segment: BatchSegment<KVCache>) throws {
        let cache = segment.cache, tokens = segment.tokens
        guard cache.count + tokens.count <= cache.capacity else {
            throw ForwardError.contextFull(needed: cache.count + tokens.count, capacity: cache.capacity)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw ForwardError.tokenOutOfRange(token: bad, vocabSize: config.vocabSize)
        }
    }

    /// Convenience for tools and tests: the logits of every position, (tokens.count × vocab).
    public func logits(_ tokens: [Int], cache: KVCache) throws -> [Float] {
        var out = [Float](repeating: 0, count: tokens.count * config.vocabSize)
        try out.withUnsafeMutableBufferPointer { try forward(tokens, cache: cache, logits: $0.baseAddress!, allPositions: true) }
        return out
    }

    private func forwardPass(_ batch: [BatchSegment<KVCache>], tokens T: Int, logits: UnsafeMutablePointer<Float>?) {
        let c = config, d = c.hiddenSize
        let half = c.qkRopeHeadDim / 2
        lastPass = PassStatistics(weightBytes: T * weights.embedding.rowBytes, routedExperts: 0)
        // Per token: its segment and its position in that segment's sequence.
        var t = 0
        for (s, segment) in batch.enumerated() {
            for (i, token) in segment.tokens.enumerated() {
                ws.segment[t] = Int32(s)
                ws.position[t] = Int32(segment.cache.count + i)
                weights.embedding.row(token, into: ws.x + t * d)
                rope.table(position: segment.cache.count + i, cos: ws.ropeCos + t * half, sin: ws.ropeSin + t * half)
                t += 1
            }
        }
        let caches = batch.map(\.cache)
        for (l, layer) in weights.layers.enumerated() {
            for t in 0..<T { rmsNorm(ws.xn + t * d, ws.x + t * d, layer.inputNorm, n: d, eps: c.rmsNormEps) }
            attention(layer.attention, layer: l, tokens: T, caches: caches)
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
        // The requested rows, normalised and gathered, through lm_head in one pass.
        var rows = 0, first = 0
        for segment in batch {
            let n = segment.tokens.count
            let wanted: Range<Int> =
                switch segment.logits {
                case .none: 0..<0
                case .last: n - 1..<n
                case .all: 0..<n
                }
            for i in wanted {
                rmsNorm(ws.xn + rows * d, ws.x + (first + i) * d, weights.norm, n: d, eps: c.rmsNormEps)
                rows += 1
            }
            segment.cache.count += n
            first += n
        }
        if let logits, rows > 0 { product(weights.lmHead, ws.xn, tokens: rows, into: logits) }
    }

    /// Runs the weight products that `add` appends in one parallel region, and counts the bytes
    /// they read: the one place weight traffic is counted.
    func products(_ add: (inout [Product]) -> Void) {
        lastPass.weightBytes += scheduler.run(add)
    }

    /// y (tokens, w.rows) = W · x (tokens, w.cols).
    func product(_ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>) {
        products { $0.append(Product(w, x, tokens: tokens, into: y)) }
    }

    /// `products` for transposed products.
    func transposedProducts(_ add: (inout [TransposedProduct]) -> Void) {
        lastPass.weightBytes += scheduler.runTransposed(add)
    }
}

/// Weight traffic of one forward pass (`KimiTransformer.lastPass`).
public struct PassStatistics: Sendable, Equatable {
    public var weightBytes = 0
    public var routedExperts = 0
    public init(weightBytes: Int = 0, routedExperts: Int = 0) {
        self.weightBytes = weightBytes
        self.routedExperts = routedExperts
    }
}

/// Which rows of a segment need logits.
public enum LogitRows: Sendable { case none, last, all }

/// One sequence's tokens in a batched pass, the cache they extend (a `KVCache` for
/// `KimiTransformer`), and which of their rows need logits.
public struct BatchSegment<Cache: AnyObject> {
    public var tokens: [Int]
    public var cache: Cache
    public var logits: LogitRows

    public init(tokens: [Int], cache: Cache, logits: LogitRows) {
        self.tokens = tokens
        self.cache = cache
        self.logits = logits
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
