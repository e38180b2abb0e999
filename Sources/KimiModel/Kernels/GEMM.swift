// Matrix × several vectors (a prefill chunk, or the tokens routed to one expert), with exactly
// the arithmetic of `gemvKernel` for every (token, row) pair: the input with the band's block
// scales folded in (`scaledInput`), one chain of eight-lane FMAs over the columns in order,
// the columns past the last multiple of eight summed alone, one horizontal sum, the output
// scale. So a row's result is bit-identical whether it is computed alone (decode), in any
// chunk of a prompt, or beside other requests' rows — the engine's batch invariance rests on
// this.
//
// Tiles: the weights of three rows and up to 128 columns are decoded once into Float (the
// same exact values the GEMV decodes on the fly) and multiplied into four tokens at a time:
// twelve accumulators, three weight vectors and one input vector in registers. The
// accumulators live in `accumulators` between column tiles.

/// Rows per microkernel pass, and tokens per pass.
let gemmRows = 3
let gemmTokens = 4

/// y[t·yStride + r - rows.lowerBound] = Σ_c W[r, c] · x[t·cols + c] for t < tokens, r in `rows`.
/// - x: (tokens, cols).
/// - scaled: (tokens · cols) scratch for the scaled input; tile: (gemmRows · 128) floats for
///   the decoded weights; accumulators: (gemmRows · tokens · 9) floats.
@inline(__always)
func gemmKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int,
    scaled: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>
) {
    let rowBytes = cols * D.size
    let outScale: Float = scales == nil ? 1 : fp8OutputScale
    let tr = UnsafeMutableRawPointer(tile)
    let vectorEnd = cols / 8 * 8  // columns handled eight at a time; the rest one by one
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
        let band = r0 / gemvBlock
        let bandEnd = min((band + 1) * gemvBlock, rows.upperBound)
        let xs = scaledInput(x, tokens: tokens, cols: cols, scales: scales, band: band, into: scaled)
        let xr = UnsafeRawPointer(xs)
        while r0 < bandEnd {
            let nr = min(gemmRows, bandEnd - r0)
            // Accumulators: SIMD8 per (row, token), then one scalar tail per (row, token).
            let lanes = UnsafeMutableRawPointer(accumulators).assumingMemoryBound(to: SIMD8<Float>.self)
            let tails = accumulators + 8 * nr * tokens
            for i in 0..<nr * tokens {
                lanes[i] = SIMD8<Float>()
                tails[i] = 0
            }
            var c0 = 0
            while c0 < vectorEnd {
                let c1 = min(c0 + gemvBlock, vectorEnd)
                // Decode the tile: nr rows × columns c0 ..< c1.
                for i in 0..<nr {
                    let row = w + (r0 + i) * rowBytes
                    var c = c0
                    while c < c1 {
                        tr.storeBytes(of: D.load8(row, c), toByteOffset: 4 * (i * gemvBlock + c - c0), as: SIMD8<Float>.self)
                        c += 8
                    }
                }
                var t0 = 0
                while t0 < tokens {
                    let nt = min(gemmTokens, tokens - t0)
                    if nr == 3 && nt == 4 {
                        tile3x4(tr, xr, cols: cols, c0: c0, c1: c1, t0: t0, lanes: lanes, tokens: tokens)
                    } else {
                        for i in 0..<nr {
                            for t in t0..<t0 + nt {
                                var a = lanes[i * tokens + t]
                                var c = c0
                                while c < c1 {
                                    a = a.addingProduct(tr.loadUnaligned(fromByteOffset: 4 * (i * gemvBlock + c - c0), as: SIMD8<Float>.self),
                                                        xr.loadUnaligned(fromByteOffset: 4 * (t * cols + c), as: SIMD8<Float>.self))
                                    c += 8
                                }
                                lanes[i * tokens + t] = a
                            }
                        }
                    }
                    t0 += nt
                }
                c0 = c1
            }
            // Columns past the last multiple of eight, one at a time, as the GEMV does.
            for i in 0..<nr where vectorEnd < cols {
                let row = w + (r0 + i) * rowBytes
                for t in 0..<tokens {
                    var q: Float = 0
                    for c in vectorEnd..<cols { q = q.addingProduct(D.load1(row, c), xs[t * cols + c]) }
                    tails[i * tokens + t] = q
                }
            }
            for i in 0..<nr {
                for t in 0..<tokens {
                    y[t * yStride + r0 + i - rows.lowerBound] = (lanes[i * tokens + t].sum() + tails[i * tokens + t]) * outScale
                }
            }
            r0 += nr
        }
    }
}

/// Three rows × four tokens over columns c0 ..< c1 of a decoded tile: twelve accumulator
/// chains in registers, continued from and returned to `lanes`.
@inline(__always)
func tile3x4(_ tile: UnsafeRawPointer, _ x: UnsafeRawPointer, cols: Int, c0: Int, c1: Int, t0: Int,
             lanes: UnsafeMutablePointer<SIMD8<Float>>, tokens: Int) {
    let l0 = lanes + t0, l1 = lanes + tokens + t0, l2 = lanes + 2 * tokens + t0
    var p00 = l0[0], p01 = l0[1], p02 = l0[2], p03 = l0[3]
    var p10 = l1[0], p11 = l1[1], p12 = l1[2], p13 = l1[3]
    var p20 = l2[0], p21 = l2[1], p22 = l2[2], p23 = l2[3]
    let x0 = x + 4 * (t0 * cols), x1 = x0 + 4 * cols, x2 = x1 + 4 * cols, x3 = x2 + 4 * cols
    var c = c0
    while c < c1 {
        let o = 4 * (c - c0)
        let w0 = tile.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self)
        let w1 = tile.loadUnaligned(fromByteOffset: 4 * gemvBlock + o, as: SIMD8<Float>.self)
        let w2 = tile.loadUnaligned(fromByteOffset: 8 * gemvBlock + o, as: SIMD8<Float>.self)
        let a = x0.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        p00 = p00.addingProduct(w0, a); p10 = p10.addingProduct(w1, a); p20 = p20.addingProduct(w2, a)
        let b = x1.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        p01 = p01.addingProduct(w0, b); p11 = p11.addingProduct(w1, b); p21 = p21.addingProduct(w2, b)
        let d = x2.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        p02 = p02.addingProduct(w0, d); p12 = p12.addingProduct(w1, d); p22 = p22.addingProduct(w2, d)
        let e = x3.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        p03 = p03.addingProduct(w0, e); p13 = p13.addingProduct(w1, e); p23 = p23.addingProduct(w2, e)
        c += 8
    }
    l0[0] = p00; l0[1] = p01; l0[2] = p02; l0[3] = p03
    l1[0] = p10; l1[1] = p11; l1[2] = p12; l1[3] = p13
    l2[0] = p20; l2[1] = p21; l2[2] = p22; l2[3] = p23
}
