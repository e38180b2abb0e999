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
            linears { $0.append(LinearJob(w: qA, x: ws.xn, tokens: T, y: ws.qa)); $0.append(LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva)) }
            for t in 0..<T { rmsNorm(ws.qa + t * qA.rows, ws.qa + t * qA.rows, qANorm, n: qA.rows, eps: latentEps) }
            linear(qB, ws.qa, tokens: T, into: ws.q)
        } else {
            linears { $0.append(LinearJob(w: a.q!, x: ws.xn, tokens: T, y: ws.q)); $0.append(LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva)) }
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
        // Every (token, head) query in cache space: W_UK[h]ᵀ q_nope, then q_pe, so that one dot
        // product with a cache entry is q̃·c + q_pe·k_pe. qAbs: (T, heads, width).
        pool.parallelFor(T * heads) { _, pairs in
            for pair in pairs {
                let qNope = ws.q + pair * qkDim, qAbs = ws.qAbs + pair * width
                a.kvB.gemvTransposed(qAbs, qNope, rows: (pair % heads) * headRows..<(pair % heads) * headRows + nope)
                (qAbs + rank).update(from: qNope + nope, count: ropeDim)
            }
        }
        // Per token, all heads at once, so that each cache entry is read and decoded once for
        // every head: scores (heads, context) = keys · queries, through the same row-invariant
        // kernels as the weights (the cache is a (context, width) bf16 or f32 matrix); a
        // softmax per head; each head's latent as the score-weighted sum of the entries; out
        // through W_UV[h]. Each value's arithmetic depends only on its token and head.
        let scale = rope.softmaxScale, stride = ws.scoreStride
        for t in 0..<T {
            let cache = caches[Int(ws.segment[t])]
            let context = Int(ws.position[t]) + 1  // causal: positions 0 ... its own
            let keys = cache.matrix(layer: layer, count: context)
            let queries = ws.qAbs + t * heads * width
            pool.parallelFor(context, align: 24) { part, positions in
                let p = ws.parts[part]
                keys.multiply(ws.scores + positions.lowerBound, yStride: stride, queries, tokens: heads, rows: positions,
                              scaled: p.scaled, tile: p.tile, accumulators: p.accumulators)
            }
            pool.parallelFor(heads) { part, range in
                let p = ws.parts[part]
                for h in range {
                    let scores = ws.scores + h * stride
                    for j in 0..<context { scores[j] *= scale }
                    softmax(scores, n: context)
                }
                cache.weightedSum(layer: layer, weights: ws.scores + range.lowerBound * stride, stride: stride, heads: range.count,
                                  count: context, n: rank, into: ws.latent + range.lowerBound * rank, tile: p.entries)
                for h in range {
                    // o_h = W_UV[h] · latent_h
                    a.kvB.gemv(ws.attn + (t * heads + h) * vDim, ws.latent + h * rank,
                               rows: h * headRows + nope..<(h + 1) * headRows, scratch: p.scaled)
                }
            }
        }
        linear(a.o, ws.attn, tokens: T, into: ws.out)
    }
}
