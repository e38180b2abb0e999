/// Multi-head latent attention in its absorbed form (DeepSeek-V3's model.py with
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
            linears {
                $0.append(LinearJob(w: qA, x: ws.xn, tokens: T, y: ws.qa)); $0.append(LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva))
            }
            for t in 0..<T { rmsNorm(ws.qa + t * qA.rows, ws.qa + t * qA.rows, qANorm, n: qA.rows, eps: latentEps) }
            linear(qB, ws.qa, tokens: T, into: ws.q)
        } else {
            linears {
                $0.append(LinearJob(w: a.q!, x: ws.xn, tokens: T, y: ws.q)); $0.append(LinearJob(w: a.kvA, x: ws.xn, tokens: T, y: ws.kva))
            }
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

        lastPass.weightBytes += a.kvB.byteCount * nope / headRows  // W_UK (W_UV is counted by its products below)
        // Every (token, head) query in cache space: W_UK[h]ᵀ q_nope, then q_pe, so that one dot
        // product with a cache entry is q̃·c + q_pe·k_pe. qAbs: (T, heads, width). Per head, all
        // tokens at once: each weight vector is decoded once for up to twelve tokens.
        pool.parallelFor(heads) { part, range in
            for h in range {
                a.kvB.gemvTransposed(
                    ws.qAbs + h * width, yStride: heads * width, ws.q + h * qkDim, xStride: heads * qkDim, tokens: T,
                    rows: h * headRows..<h * headRows + nope, interleaved: ws.parts[part].interleaved)
                for t in 0..<T {
                    (ws.qAbs + (t * heads + h) * width + rank).update(from: ws.q + (t * heads + h) * qkDim + nope, count: ropeDim)
                }
            }
        }
        // Per token, all heads at once, so that each cache entry is read and decoded once for
        // every head: scores (heads, context) = keys · queries, through the same row-invariant
        // kernels as the weights (the cache is a (context, width) bf16 or f32 matrix); a
        // softmax per head; each head's latent as the score-weighted sum of the entries
        // (ws.latent: (heads, T, kvLoraRank)). Each value's arithmetic depends only on its
        // token and head.
        let scale = rope.softmaxScale, stride = ws.scoreStride
        for t in 0..<T {
            let cache = caches[Int(ws.segment[t])]
            let context = Int(ws.position[t]) + 1  // causal: positions 0 ... its own
            let keys = cache.matrix(layer: layer, count: context)
            let queries = ws.qAbs + t * heads * width
            pool.parallelFor(context, align: 24) { part, positions in
                let p = ws.parts[part]
                keys.multiply(
                    ws.scores + positions.lowerBound, yStride: stride, queries, tokens: heads, rows: positions,
                    scaled: p.scaled, tile: p.tile, accumulators: p.accumulators)
            }
            pool.parallelFor(heads) { part, range in
                for h in range {
                    let scores = ws.scores + h * stride
                    for j in 0..<context { scores[j] *= scale }
                    softmax(scores, n: context)
                }
                cache.weightedSum(
                    layer: layer, weights: ws.scores + range.lowerBound * stride, stride: stride, heads: range.count,
                    count: context, n: rank, into: ws.latent + (range.lowerBound * T + t) * rank, outStride: T * rank,
                    tile: ws.parts[part].entries, interleaved: ws.parts[part].interleaved)
            }
        }
        // Out of latent space per head, all tokens at once: o_h = W_UV[h] · latent_h. attn: (T, heads, vHeadDim).
        linears { jobs in
            for h in 0..<heads {
                jobs.append(
                    LinearJob(
                        w: a.kvB, x: ws.latent + h * T * rank, tokens: T, y: ws.attn + h * vDim,
                        rows: h * headRows + nope..<(h + 1) * headRows, yStride: heads * vDim))
            }
        }
        linear(a.o, ws.attn, tokens: T, into: ws.out)
    }
}
