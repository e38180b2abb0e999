/// Every activation buffer of a forward pass over up to `maxTokens` tokens, allocated once
/// (llama2.c's RunState). Shapes are in the comments; T = maxTokens.
final class Workspace {
    let maxTokens: Int
    /// (T, hidden) the residual stream
    let x: UnsafeMutablePointer<Float>
    /// (T, hidden) normalised input of the current sub-layer
    let xn: UnsafeMutablePointer<Float>
    /// (T, hidden) the current sub-layer's output
    let out: UnsafeMutablePointer<Float>
    /// (T, qLoraRank) the query latent
    let qa: UnsafeMutablePointer<Float>
    /// (T, heads, qkHeadDim) queries: per head q_nope then q_pe
    let q: UnsafeMutablePointer<Float>
    /// (T, kvLoraRank + qkRopeHeadDim) kv_a output, then the cache entry
    let kva: UnsafeMutablePointer<Float>
    /// (T, heads, kvLoraRank + qkRopeHeadDim) queries in cache space: W_UK[h]ᵀ q_nope, then q_pe
    let qAbs: UnsafeMutablePointer<Float>
    /// (heads, scoreStride) one token's attention scores, then probabilities, per head
    let scores: UnsafeMutablePointer<Float>
    let scoreStride: Int
    /// (heads, T, kvLoraRank) each token's attention-weighted latent per head
    let latent: UnsafeMutablePointer<Float>
    /// (T, heads, vHeadDim) attention output per head
    let attn: UnsafeMutablePointer<Float>
    /// (T) each token's segment in the batch and its position in that sequence
    let segment: UnsafeMutablePointer<Int32>
    let position: UnsafeMutablePointer<Int32>
    /// (T, qkRopeHeadDim / 2) each, per token position
    let ropeCos: UnsafeMutablePointer<Float>
    let ropeSin: UnsafeMutablePointer<Float>
    /// (T, ffnWidth) each: an MLP's gate and up activations
    let gate: UnsafeMutablePointer<Float>
    let up: UnsafeMutablePointer<Float>
    /// (T·k, hidden) each route's input, grouped by expert, and its expert's output
    let expertIn: UnsafeMutablePointer<Float>
    let expertOut: UnsafeMutablePointer<Float>
    /// (T·k, moeIntermediate) each route's gate and up activations
    let routedGate: UnsafeMutablePointer<Float>
    let routedUp: UnsafeMutablePointer<Float>
    /// (T, hidden) the shared experts' output
    let sharedOut: UnsafeMutablePointer<Float>
    /// (T, nRoutedExperts) router logits, then scores
    let routerScores: UnsafeMutablePointer<Float>
    /// (router.scratchCount)
    let routerScratch: UnsafeMutablePointer<Float>
    /// (T, k) chosen experts and their weights per token
    let routes: UnsafeMutablePointer<Int32>
    let routeWeights: UnsafeMutablePointer<Float>
    /// (T·k) indices into routes, ordered by expert then token
    let routeOrder: UnsafeMutablePointer<Int32>
    /// (nRoutedExperts + 1) where each expert's run starts in routeOrder
    let expertStart: UnsafeMutablePointer<Int32>
    /// (nRoutedExperts) the next free slot of each expert's run while routes are sorted
    let expertFill: UnsafeMutablePointer<Int32>

    private var allocations: [UnsafeMutableRawPointer] = []

    init(config c: ModelConfig, router: MoERouter, maxTokens: Int, contextCapacity: Int) {
        self.maxTokens = maxTokens
        let ffnWidth = c.widestFeedForward
        var allocations: [UnsafeMutableRawPointer] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        func ints(_ n: Int) -> UnsafeMutablePointer<Int32> {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        let t = maxTokens
        x = floats(t * c.hiddenSize)
        xn = floats(t * c.hiddenSize)
        out = floats(t * c.hiddenSize)
        qa = floats(t * (c.qLoraRank ?? 0))
        q = floats(t * c.numAttentionHeads * c.qkHeadDim)
        kva = floats(t * c.kvCacheWidth)
        attn = floats(t * c.numAttentionHeads * c.vHeadDim)
        qAbs = floats(t * c.numAttentionHeads * c.kvCacheWidth)
        scoreStride = contextCapacity
        scores = floats(c.numAttentionHeads * contextCapacity)
        latent = floats(c.numAttentionHeads * t * c.kvLoraRank)
        segment = ints(t)
        position = ints(t)
        ropeCos = floats(t * c.qkRopeHeadDim / 2)
        ropeSin = floats(t * c.qkRopeHeadDim / 2)
        gate = floats(t * ffnWidth)
        up = floats(t * ffnWidth)
        let routeCount = t * c.numExpertsPerTok
        expertIn = floats(routeCount * c.hiddenSize)
        expertOut = floats(routeCount * c.hiddenSize)
        routedGate = floats(routeCount * c.moeIntermediateSize)
        routedUp = floats(routeCount * c.moeIntermediateSize)
        sharedOut = floats(t * c.hiddenSize)
        routerScores = floats(t * c.nRoutedExperts)
        routerScratch = floats(router.scratchCount)
        routes = ints(t * c.numExpertsPerTok)
        routeWeights = floats(t * c.numExpertsPerTok)
        routeOrder = ints(t * c.numExpertsPerTok)
        expertStart = ints(c.nRoutedExperts + 1)
        expertFill = ints(c.nRoutedExperts)
        self.allocations = allocations
    }

    deinit {
        for p in allocations { p.deallocate() }
    }
}
