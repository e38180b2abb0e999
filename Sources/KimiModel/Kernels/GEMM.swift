// Matrix × several vectors (a prefill chunk), with exactly the arithmetic of `gemvKernel` for
// every (token, row) pair: per 128-column block an eight-lane partial sum over the block's
// columns in order, folded into an eight-lane accumulator with the block's scale, the columns
// past the last multiple of eight summed alone, and one horizontal sum at the end. So a row's
// result is bit-identical whether it is computed alone (decode), in any chunk of a prompt, or
// beside other requests' rows — the engine's batch invariance rests on this.
//
// Tiles: the weights of three rows and one block are decoded once into Float (the same exact
// values the GEMV decodes on the fly) and multiplied into three tokens at a time: nine partial
// sums, three weight and three input vectors in registers.

/// Rows per microkernel pass, and tokens per pass.
let gemmRows = 3
let gemmTokens = 3

/// y[t·yStride + r - rows.lowerBound] = Σ_c W[r, c] · x[t·cols + c] for t < tokens, r in `rows`.
/// - x: (tokens, cols); for fp8 multiplied by `fp8InputScale`.
/// - scratch: (gemmRows · 128) floats for the decoded weight tile, and
///   accumulators: (gemmRows · tokens · 8) floats.
@inline(__always)
func gemmKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int,
    tile: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>
) {
    let scaleCols = (cols + gemvBlock - 1) / gemvBlock
    let rowBytes = cols * D.size
    let xr = UnsafeRawPointer(x)
    let tr = UnsafeMutableRawPointer(tile)
    let ar = UnsafeMutableRawPointer(accumulators)
    let fullCols = cols / 8 * 8  // columns handled eight at a time; the rest one by one
    /// The scales of the 128-row block holding `row` (nil: every block's scale is 1).
    @inline(__always) func scaleRow(_ row: Int) -> UnsafeRawPointer? { scales.map { $0 + 4 * (row / gemvBlock) * scaleCols } }
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
        let nr = min(gemmRows, rows.upperBound - r0)
        // Accumulators: SIMD8 per (row, token), and one scalar tail per (row, token).
        let lanes = ar.assumingMemoryBound(to: SIMD8<Float>.self)
        let tails = accumulators + 8 * nr * tokens
        for i in 0..<nr * tokens {
            lanes[i] = SIMD8<Float>()
            tails[i] = 0
        }
        var block = 0
        var c0 = 0
        while c0 < cols {
            let c1 = min(c0 + gemvBlock, cols)
            let vectorEnd = min(c1, fullCols)
            // Decode the tile: nr rows × this block's columns.
            for i in 0..<nr {
                let row = w + (r0 + i) * rowBytes
                var c = c0
                while c + 8 <= vectorEnd {
                    tr.storeBytes(of: D.load8(row, c), toByteOffset: 4 * (i * gemvBlock + c - c0), as: SIMD8<Float>.self)
                    c += 8
                }
                while c < c1 {
                    tile[i * gemvBlock + c - c0] = D.load1(row, c)
                    c += 1
                }
            }
            var t0 = 0
            while t0 < tokens {
                let nt = min(gemmTokens, tokens - t0)
                if nr == 3 && nt == 3 {
                    let scale = SIMD3<Float>(blockScale(scaleRow(r0), block), blockScale(scaleRow(r0 + 1), block),
                                             blockScale(scaleRow(r0 + 2), block))
                    tile3x3(tr, xr, cols: cols, c0: c0, vectorEnd: vectorEnd, t0: t0, lanes: lanes, tokens: tokens, scale: scale)
                } else {
                    for i in 0..<nr {
                        for t in t0..<t0 + nt {
                            var p = SIMD8<Float>()
                            var c = c0
                            while c < vectorEnd {
                                p = p.addingProduct(tr.loadUnaligned(fromByteOffset: 4 * (i * gemvBlock + c - c0), as: SIMD8<Float>.self),
                                                    xr.loadUnaligned(fromByteOffset: 4 * (t * cols + c), as: SIMD8<Float>.self))
                                c += 8
                            }
                            let sc = blockScale(scaleRow(r0 + i), block)
                            lanes[i * tokens + t] = lanes[i * tokens + t].addingProduct(p, SIMD8<Float>(repeating: sc))
                        }
                    }
                }
                t0 += nt
            }
            // Columns past the last multiple of eight, one at a time, as the GEMV does.
            if vectorEnd < c1 {
                for i in 0..<nr {
                    let sc = blockScale(scaleRow(r0 + i), block)
                    for t in 0..<tokens {
                        var q: Float = 0
                        for c in vectorEnd..<c1 { q = q.addingProduct(tile[i * gemvBlock + c - c0], x[t * cols + c]) }
                        tails[i * tokens + t] = tails[i * tokens + t].addingProduct(q, sc)
                    }
                }
            }
            c0 = c1
            block += 1
        }
        for i in 0..<nr {
            for t in 0..<tokens {
                y[t * yStride + r0 + i - rows.lowerBound] = lanes[i * tokens + t].sum() + tails[i * tokens + t]
            }
        }
        r0 += nr
    }
}

/// Three rows × three tokens over one block: nine partial sums in registers, folded into the
/// accumulators with each row's block scale.
@inline(__always)
func tile3x3(_ tile: UnsafeRawPointer, _ x: UnsafeRawPointer, cols: Int, c0: Int, vectorEnd: Int, t0: Int,
             lanes: UnsafeMutablePointer<SIMD8<Float>>, tokens: Int, scale: SIMD3<Float>) {
    var p00 = SIMD8<Float>(), p01 = SIMD8<Float>(), p02 = SIMD8<Float>()
    var p10 = SIMD8<Float>(), p11 = SIMD8<Float>(), p12 = SIMD8<Float>()
    var p20 = SIMD8<Float>(), p21 = SIMD8<Float>(), p22 = SIMD8<Float>()
    let x0 = x + 4 * (t0 * cols), x1 = x0 + 4 * cols, x2 = x1 + 4 * cols
    var c = c0
    while c < vectorEnd {
        let o = 4 * (c - c0)
        let w0 = tile.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
        let w1 = tile.loadUnaligned(fromByteOffset: 4 * gemvBlock + o, as: SIMD8<Float>.self)
        let w2 = tile.loadUnaligned(fromByteOffset: 8 * gemvBlock + o, as: SIMD8<Float>.self)
        let a = x0.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        let b = x1.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        let d = x2.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        p00 = p00.addingProduct(w0, a); p01 = p01.addingProduct(w0, b); p02 = p02.addingProduct(w0, d)
        p10 = p10.addingProduct(w1, a); p11 = p11.addingProduct(w1, b); p12 = p12.addingProduct(w1, d)
        p20 = p20.addingProduct(w2, a); p21 = p21.addingProduct(w2, b); p22 = p22.addingProduct(w2, d)
        c += 8
    }
    let s0 = SIMD8<Float>(repeating: scale[0]), s1 = SIMD8<Float>(repeating: scale[1]), s2 = SIMD8<Float>(repeating: scale[2])
    let l0 = lanes + t0, l1 = lanes + tokens + t0, l2 = lanes + 2 * tokens + t0
    l0[0] = l0[0].addingProduct(p00, s0); l0[1] = l0[1].addingProduct(p01, s0); l0[2] = l0[2].addingProduct(p02, s0)
    l1[0] = l1[0].addingProduct(p10, s1); l1[1] = l1[1].addingProduct(p11, s1); l1[2] = l1[2].addingProduct(p12, s1)
    l2[0] = l2[0].addingProduct(p20, s2); l2[1] = l2[1].addingProduct(p21, s2); l2[2] = l2[2].addingProduct(p22, s2)
}
