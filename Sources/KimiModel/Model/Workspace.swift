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
    /// (T, kvLoraRank + qkRopeHeadDim) kv_a output before the norm
    let kva: UnsafeMutablePointer<Float>
    /// (T, heads, vHeadDim) attention output per head
    let attn: UnsafeMutablePointer<Float>
    /// (kvLoraRank + qkRopeHeadDim) one head's query in cache space: W_UK[h]ᵀ q_nope, then q_pe
    let qAbsorbed: UnsafeMutablePointer<Float>
    /// (kvLoraRank + qkRopeHeadDim) one token's cache entry before it is stored
    let kvEntry: UnsafeMutablePointer<Float>
    /// (kvLoraRank) attention-weighted latent of one head
    let latent: UnsafeMutablePointer<Float>
    /// (contextCapacity) attention scores of one head
    let scores: UnsafeMutablePointer<Float>
    let scoresCapacity: Int
    /// (T, qkRopeHeadDim / 2) each, per token position
    let ropeCos: UnsafeMutablePointer<Float>
    let ropeSin: UnsafeMutablePointer<Float>
    /// (ffnWidth) each: an MLP's gate and up activations for one token
    let gate: UnsafeMutablePointer<Float>
    let up: UnsafeMutablePointer<Float>
    /// (hidden) one MLP output
    let mlpOut: UnsafeMutablePointer<Float>
    /// (nRoutedExperts) router logits, then scores
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
    /// (widest input of any matrix) input pre-scaled for fp8 kernels
    let scratch: UnsafeMutablePointer<Float>

    private var allocations: [UnsafeMutableRawPointer] = []

    init(config c: ModelConfig, router: MoERouter, maxTokens: Int, contextCapacity: Int) {
        self.maxTokens = maxTokens
        scoresCapacity = contextCapacity
        let ffnWidth = max(c.intermediateSize, c.moeIntermediateSize * max(c.nSharedExperts, 1), 1)
        let widest = max(c.hiddenSize, c.qLoraRank ?? 0, c.kvLoraRank, c.numAttentionHeads * c.vHeadDim, ffnWidth)
        var allocations: [UnsafeMutableRawPointer] = []
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
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
        qAbsorbed = floats(c.kvCacheWidth)
        kvEntry = floats(c.kvCacheWidth)
        latent = floats(c.kvLoraRank)
        scores = floats(contextCapacity)
        ropeCos = floats(t * c.qkRopeHeadDim / 2)
        ropeSin = floats(t * c.qkRopeHeadDim / 2)
        gate = floats(ffnWidth)
        up = floats(ffnWidth)
        mlpOut = floats(c.hiddenSize)
        routerScores = floats(c.nRoutedExperts)
        routerScratch = floats(router.scratchCount)
        func ints(_ n: Int) -> UnsafeMutablePointer<Int32> {
            let p = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            allocations.append(UnsafeMutableRawPointer(p))
            return p
        }
        routes = ints(t * c.numExpertsPerTok)
        routeOrder = ints(t * c.numExpertsPerTok)
        expertStart = ints(c.nRoutedExperts + 1)
        routeWeights = floats(t * c.numExpertsPerTok)
        scratch = floats(widest)
        self.allocations = allocations
    }

    deinit {
        for p in allocations { p.deallocate() }
    }
}
