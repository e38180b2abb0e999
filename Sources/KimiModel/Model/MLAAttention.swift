/// Multi-head latent attention in its absorbed form (spec §3.2, §3.6; DeepSeek-V3's
/// `attn_impl = "absorb"`). Per token only the normalised latent c (kvLoraRank) and the
/// rotated k_pe (qkRopeHeadDim) are cached; per head h the query's no-rope part is taken into
/// latent space through W_UK[h] (kv_b's first qkNopeHeadDim rows of the head), scores are
/// q̃·c + q_pe·k_pe, and the weighted latent is brought out through W_UV[h] (the next vHeadDim
/// rows). Mathematically equal to expanding k and v for every cached token.
extension KimiTransformer {
    /// ws.out[t] = o_proj(MLA(ws.xn[t])) for t < T; token t belongs to caches[ws.segment[t]] at
    /// ws.position[t], where its entry is written and after which it attends.
    func attention(_ a: ModelWeights.Attention, layer: Int, tokens T: Int, caches: [KVCache]) {
        let c = config, ws = ws
        let heads = c.numAttentionHeads, nope = c.qkNopeHeadDim, ropeDim = c.qkRopeHeadDim
        let qkDim = c.qkHeadDim, vDim = c.vHeadDim, rank = c.kvLoraRank, width = c.kvCacheWidth
        let headRows = nope + vDim  // kv_b rows per head: W_UK then W_UV
        let half = ropeDim / 2
        let latentEps: Float = 1e-6  // q_a / kv_a layernorms are built without the config's eps

        // Queries (T, heads, qkDim), through the low-rank path or q_proj, and the cache
        // entries (T, kvLoraRank + qkRopeHeadDim) from kv_a, in one region.
        if let qA = a.qA, let qANorm = a.qANorm, let qB = a.qB {
            linears([LinearJob(w: qA, x: ws.xn, tokens: T, y: ws.qa), LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva)])
            for t in 0..<T { rmsNorm(ws.qa + t * qA.rows, ws.qa + t * qA.rows, qANorm, n: qA.rows, eps: latentEps) }
            linear(qB, ws.qa, tokens: T, into: ws.q)
        } else {
            linears([LinearJob(w: a.q!, x: ws.xn, tokens: T, y: ws.q), LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva)])
        }
        // Cache entries: normalised latent, then the rotated shared k_pe.
        for t in 0..<T {
            let q = ws.q + t * heads * qkDim, kva = ws.kva + t * width
            let cos = ws.ropeCos + t * half, sin = ws.ropeSin + t * half
            for h in 0..<heads { ropeInterleaved(q + h * qkDim + nope, cos: cos, sin: sin, half: half) }
            rmsNorm(kva, kva, a.kvANorm, n: rank, eps: latentEps)
            ropeInterleaved(kva + rank, cos: cos, sin: sin, half: half)
            caches[Int(ws.segment[t])].store(layer: layer, position: Int(ws.position[t]), from: kva)
        }

        lastPass.weightBytes += a.kvB.byteCount  // W_UK and W_UV, read by every (token, head) from cache after the first
        // Attention per (token, head), split across the pool.
        let scale = rope.softmaxScale
        pool.parallelFor(T * heads) { part, pairs in
            let p = ws.parts[part]
            for pair in pairs {
                let t = pair / heads, h = pair % heads
                let qNope = ws.q + t * heads * qkDim + h * qkDim, qPe = qNope + nope
                let cache = caches[Int(ws.segment[t])]
                let context = Int(ws.position[t]) + 1  // causal: positions 0 ... its own
                // The query in cache space: W_UK[h]ᵀ q_nope, then q_pe, so that one dot product
                // with a cache entry is q̃·c + q_pe·k_pe.
                a.kvB.gemvTransposed(p.qCache, qNope, rows: h * headRows..<h * headRows + nope)
                (p.qCache + rank).update(from: qPe, count: ropeDim)
                cache.scores(layer: layer, query: p.qCache, count: context, scale: scale, into: p.scores)
                softmax(p.scores, n: context)
                cache.weightedSum(layer: layer, weights: p.scores, count: context, n: rank, into: p.latent)
                // o_h = W_UV[h] · latent
                a.kvB.gemv(ws.attn + (t * heads + h) * vDim, p.latent,
                           rows: h * headRows + nope..<(h + 1) * headRows, scratch: p.prepared)
            }
        }
        linear(a.o, ws.attn, tokens: T, into: ws.out)
    }
}
