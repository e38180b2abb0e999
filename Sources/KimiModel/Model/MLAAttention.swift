import KimiKernels

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

        // Queries q (T, heads, qkDim) through the low-rank path or q_proj, and kva (T, width)
        // from kv_a, in one region.
        if let qA = a.qA, let qANorm = a.qANorm, let qB = a.qB {
            products {
                $0.append(Product(qA, ws.xn, tokens: T, into: ws.qa))
                $0.append(Product(a.kvA, ws.xn, tokens: T, into: ws.kva))
            }
            for t in 0..<T { rmsNorm(ws.qa + t * qA.rows, ws.qa + t * qA.rows, qANorm, n: qA.rows, eps: latentEps) }
            product(qB, ws.qa, tokens: T, into: ws.q)
        } else {
            products {
                $0.append(Product(a.q!, ws.xn, tokens: T, into: ws.q))
                $0.append(Product(a.kvA, ws.xn, tokens: T, into: ws.kva))
            }
        }
        // RoPE on q_pe; the cache entries: normalised latent, then the rotated shared k_pe.
        for t in 0..<T {
            let q = ws.q + t * heads * qkDim, kva = ws.kva + t * width
            let cos = ws.ropeCos + t * half, sin = ws.ropeSin + t * half
            for h in 0..<heads { ropeInterleaved(q + h * qkDim + nope, cos: cos, sin: sin, half: half) }
            rmsNorm(kva, kva, a.kvANorm, n: rank, eps: latentEps)
            ropeInterleaved(kva + rank, cos: cos, sin: sin, half: half)
            caches[Int(ws.segment[t])].store(layer: layer, position: Int(ws.position[t]), from: kva)
        }

        // Absorb: every (token, head) query in cache space, qAbs (T, heads, width) =
        // [W_UK[h]ᵀ q_nope, q_pe], so that one dot product with a cache entry is q̃·c + q_pe·k_pe.
        // Per head, all tokens at once.
        transposedProducts { products in
            for h in 0..<heads {
                products.append(
                    TransposedProduct(
                        a.kvB, rows: h * headRows..<h * headRows + nope, ws.q + h * qkDim, xStride: heads * qkDim, tokens: T,
                        into: ws.qAbs + h * width, yStride: heads * width))
            }
        }
        for t in 0..<T {
            for h in 0..<heads {
                (ws.qAbs + (t * heads + h) * width + rank).update(from: ws.q + (t * heads + h) * qkDim + nope, count: ropeDim)
            }
        }
        // Per token, all heads at once, so that each cache entry is read and decoded once for
        // every head. Each value's arithmetic depends only on its token and head.
        let scale = rope.softmaxScale, stride = ws.scoreStride
        for t in 0..<T {
            let context = Int(ws.position[t]) + 1  // causal: positions 0 ... its own
            let entries = caches[Int(ws.segment[t])].matrix(layer: layer, count: context)  // (context, width)
            let queries = ws.qAbs + t * heads * width  // (heads, width)
            // Scores (heads, context) = queries · entriesᵀ (cache reads: not weight traffic).
            scheduler.run { $0.append(Product(entries, queries, tokens: heads, into: ws.scores, yStride: stride)) }
            scheduler.parallelFor(heads) { range, scratch in
                for h in range {
                    let scores = ws.scores + h * stride
                    for j in 0..<context { scores[j] *= scale }
                    softmax(scores, n: context)
                }
                // Each head's latent, the probability-weighted sum of the entries' latents:
                // ws.latent (heads, T, kvLoraRank).
                entries.sumRows(
                    weightedBy: ws.scores + range.lowerBound * stride, stride: stride, count: range.count, rows: context,
                    columns: rank, into: ws.latent + (range.lowerBound * T + t) * rank, yStride: T * rank, scratch: scratch)
            }
        }
        // Out of latent space per head, all tokens at once: o_h = W_UV[h] · latent_h. attn: (T, heads, vHeadDim).
        products { products in
            for h in 0..<heads {
                products.append(
                    Product(
                        a.kvB, ws.latent + h * T * rank, tokens: T, into: ws.attn + h * vDim,
                        rows: h * headRows + nope..<(h + 1) * headRows, yStride: heads * vDim))
            }
        }
        product(a.o, ws.attn, tokens: T, into: ws.out)
    }
}
