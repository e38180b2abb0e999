/// Multi-head latent attention in its absorbed form (spec §3.2, §3.6; DeepSeek-V3's
/// `attn_impl = "absorb"`). Per token only the normalised latent c (kvLoraRank) and the
/// rotated k_pe (qkRopeHeadDim) are cached; per head h the query's no-rope part is taken into
/// latent space through W_UK[h] (kv_b's first qkNopeHeadDim rows of the head), scores are
/// q̃·c + q_pe·k_pe, and the weighted latent is brought out through W_UV[h] (the next vHeadDim
/// rows). Mathematically equal to expanding k and v for every cached token.
extension KimiTransformer {
    /// ws.out[t] = o_proj(MLA(ws.xn[t])) for t < T; writes the cache entries of start ..< start + T.
    func attention(_ a: ModelWeights.Attention, layer: Int, tokens T: Int, start: Int, cache: KVCache) {
        let c = config, ws = ws
        let heads = c.numAttentionHeads, nope = c.qkNopeHeadDim, ropeDim = c.qkRopeHeadDim
        let qkDim = c.qkHeadDim, vDim = c.vHeadDim, rank = c.kvLoraRank, d = c.hiddenSize
        let headRows = nope + vDim  // kv_b rows per head: W_UK then W_UV
        let half = ropeDim / 2
        let latentEps: Float = 1e-6  // q_a / kv_a layernorms are built without the config's eps

        for t in 0..<T {
            let xn = ws.xn + t * d
            let q = ws.q + t * heads * qkDim  // (heads, qkDim)
            if let qA = a.qA, let qANorm = a.qANorm, let qB = a.qB {
                let qa = ws.qa + t * qA.rows  // (qLoraRank)
                qA.gemv(qa, xn, scratch: ws.scratch)
                rmsNorm(qa, qa, qANorm, n: qA.rows, eps: latentEps)
                qB.gemv(q, qa, scratch: ws.scratch)
            } else {
                a.q!.gemv(q, xn, scratch: ws.scratch)
            }
            let cos = ws.ropeCos + t * half, sin = ws.ropeSin + t * half
            for h in 0..<heads { ropeInterleaved(q + h * qkDim + nope, cos: cos, sin: sin, half: half) }

            // The cache entry: normalised latent, then the rotated shared k_pe.
            let kva = ws.kva + t * (rank + ropeDim)
            a.kvA.gemv(kva, xn, scratch: ws.scratch)
            rmsNorm(ws.kvEntry, kva, a.kvANorm, n: rank, eps: latentEps)
            (ws.kvEntry + rank).update(from: kva + rank, count: ropeDim)
            ropeInterleaved(ws.kvEntry + rank, cos: cos, sin: sin, half: half)
            cache.store(layer: layer, position: start + t, from: ws.kvEntry)
        }

        let scale = rope.softmaxScale
        for t in 0..<T {
            let q = ws.q + t * heads * qkDim
            let context = start + t + 1  // causal: positions 0 ... start + t
            for h in 0..<heads {
                let qNope = q + h * qkDim, qPe = qNope + nope
                // The query in cache space (rank + ropeDim): W_UK[h]ᵀ q_nope, then q_pe, so that
                // one dot product with a cache entry is q̃·c + q_pe·k_pe.
                let qCache = ws.qAbsorbed
                a.kvB.gemvTransposed(qCache, qNope, rows: h * headRows..<h * headRows + nope)
                (qCache + rank).update(from: qPe, count: ropeDim)
                cache.scores(layer: layer, query: qCache, count: context, scale: scale, into: ws.scores)
                softmax(ws.scores, n: context)
                cache.weightedSum(layer: layer, weights: ws.scores, count: context, n: rank, into: ws.latent)
                // o_h = W_UV[h] · latent
                a.kvB.gemv(ws.attn + (t * heads + h) * vDim, ws.latent,
                           rows: h * headRows + nope..<(h + 1) * headRows, scratch: ws.scratch)
            }
            a.o.gemv(ws.out + t * d, ws.attn + t * heads * vDim, scratch: ws.scratch)
        }
    }
}
