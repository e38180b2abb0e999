import CKimiKernels

// Matrix-vector products over weights in their checkpoint dtype: the decode-time workhorse.
// For block-fp8, each 128-row band's block scales are folded into the input once
// (`scaledInput`), so a row is one chain of eight-lane FMAs over all its columns in order,
// the columns past the last multiple of eight summed alone, then one horizontal sum: eight
// rows per pass with one accumulator each, decoding the weights in registers. A row's result
// depends only on that row and x: no arithmetic is shared between rows, so any row split
// (threads, batches) gives bit-identical outputs, and the GEMM (GEMM.swift) repeats exactly
// this arithmetic for every (row, token). These are the AVX2 kernels; on CPUs with AVX-512
// every product runs the wide passes instead (WidePasses.swift).

/// Rows per GEMV pass.
let gemvRows = 8

/// What the input of band `band` (rows band·128 ..< band·128 + 128) is multiplied by in column
/// block `block` of a block-fp8 matrix with `cols` columns: scale[band, block] · 2^60. The
/// weights decode to value · 2^-120 (FP8.swift), so products carry 2^-60, undone by
/// `fp8OutputScale` on each result. Every kernel scales its input with this, so that they agree
/// bit for bit.
@inline(__always)
func fp8InputBlockScale(_ scales: UnsafeRawPointer, cols: Int, band: Int, block: Int) -> Float {
    let scaleCols = (cols + fp8Block - 1) / fp8Block
    return scales.loadUnaligned(fromByteOffset: 4 * (band * scaleCols + block), as: Float.self) * fp8InputScale
}

/// The input of one 128-row band of a block-fp8 matrix with the band's column-block scales
/// folded in: xs[t·cols + c] = x[t·cols + c] · fp8InputBlockScale(band, c / 128) for t < tokens.
/// Without scales (float dtypes), x itself.
@inline(__always)
func scaledInput(
    _ x: UnsafePointer<Float>, tokens: Int, cols: Int, scales: UnsafeRawPointer?, band: Int,
    into xs: UnsafeMutablePointer<Float>
) -> UnsafePointer<Float> {
    guard let scales else { return x }
    let source = UnsafeRawPointer(x), target = UnsafeMutableRawPointer(xs)
    for t in 0..<tokens {
        var c0 = 0, block = 0
        while c0 < cols {
            let s = fp8InputBlockScale(scales, cols: cols, band: band, block: block)
            let c1 = min(c0 + fp8Block, cols)
            var i = t * cols + c0
            let end = t * cols + c1
            while i &+ 8 <= end {
                target.storeBytes(
                    of: source.loadUnaligned(fromByteOffset: 4 &* i, as: SIMD8<Float>.self) * s,
                    toByteOffset: 4 &* i, as: SIMD8<Float>.self)
                i &+= 8
            }
            while i < end {
                xs[i] = x[i] * s
                i &+= 1
            }
            c0 = c1
            block += 1
        }
    }
    return UnsafePointer(xs)
}

/// y[r - rows.lowerBound] = Σ_c W[r, c] · x[c] for r in `rows`.
/// - w: [_, cols] row-major, element type `D`.
/// - scales: fp8 only, F32 [ceil(_/128), ceil(cols/128)]; nil for float dtypes.
/// - scaled: (cols) scratch for the scaled input.
@inline(__always)
func gemvKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, scaled: UnsafeMutablePointer<Float>
) {
    let rowBytes = cols * D.size
    let outScale: Float = scales == nil ? 1 : fp8OutputScale
    var r = rows.lowerBound
    while r < rows.upperBound {
        let band = r / fp8Block
        let bandEnd = min((band + 1) * fp8Block, rows.upperBound)
        let xs = scaledInput(x, tokens: 1, cols: cols, scales: scales, band: band, into: scaled)
        while r < bandEnd {
            if r % gemvRows == 0 && r + gemvRows <= bandEnd {
                gemvPass(D.self, y + r - rows.lowerBound, xs, w + r * rowBytes, rowBytes: rowBytes, cols: cols, outScale: outScale)
                r += gemvRows
            } else {
                y[r - rows.lowerBound] = (gemvRow(D.self, xs, w + r * rowBytes, cols: cols)) * outScale
                r += 1
            }
        }
    }
}

/// Eight rows at once (y: 8 results): eight accumulators, each weight vector decoded once
/// and multiplied by the shared input vector. The next eight rows are prefetched meanwhile:
/// the hardware prefetchers stop at the 4 KB page boundaries of the mapped shards.
@inline(__always)
func gemvPass<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ xs: UnsafePointer<Float>, _ w: UnsafeRawPointer,
    rowBytes: Int, cols: Int, outScale: Float
) {
    let xr = UnsafeRawPointer(xs)
    let w0 = w, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes
    let w4 = w3 + rowBytes, w5 = w4 + rowBytes, w6 = w5 + rowBytes, w7 = w6 + rowBytes
    var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
    var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
    @inline(__always) func step(_ c: Int) {
        let xv = xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        a0 = a0.addingProduct(D.load8(w0, c), xv)
        a1 = a1.addingProduct(D.load8(w1, c), xv)
        a2 = a2.addingProduct(D.load8(w2, c), xv)
        a3 = a3.addingProduct(D.load8(w3, c), xv)
        a4 = a4.addingProduct(D.load8(w4, c), xv)
        a5 = a5.addingProduct(D.load8(w5, c), xv)
        a6 = a6.addingProduct(D.load8(w6, c), xv)
        a7 = a7.addingProduct(D.load8(w7, c), xv)
    }
    let vectorEnd = cols / 8 * 8
    let ahead = gemvRows * rowBytes
    var c = 0
    while c + 64 <= vectorEnd {
        var line = 0
        while line < 64 * D.size {
            let o = c * D.size + line + ahead
            kimi_prefetch(w0 + o); kimi_prefetch(w1 + o); kimi_prefetch(w2 + o); kimi_prefetch(w3 + o)
            kimi_prefetch(w4 + o); kimi_prefetch(w5 + o); kimi_prefetch(w6 + o); kimi_prefetch(w7 + o)
            line += 64
        }
        step(c); step(c + 8); step(c + 16); step(c + 24); step(c + 32); step(c + 40); step(c + 48); step(c + 56)
        c += 64
    }
    while c < vectorEnd {
        step(c)
        c += 8
    }
    var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0, t4: Float = 0, t5: Float = 0, t6: Float = 0, t7: Float = 0
    while c < cols {
        let xc = xs[c]
        t0 = t0.addingProduct(D.load1(w0, c), xc); t1 = t1.addingProduct(D.load1(w1, c), xc)
        t2 = t2.addingProduct(D.load1(w2, c), xc); t3 = t3.addingProduct(D.load1(w3, c), xc)
        t4 = t4.addingProduct(D.load1(w4, c), xc); t5 = t5.addingProduct(D.load1(w5, c), xc)
        t6 = t6.addingProduct(D.load1(w6, c), xc); t7 = t7.addingProduct(D.load1(w7, c), xc)
        c += 1
    }
    y[0] = (a0.sum() + t0) * outScale; y[1] = (a1.sum() + t1) * outScale
    y[2] = (a2.sum() + t2) * outScale; y[3] = (a3.sum() + t3) * outScale
    y[4] = (a4.sum() + t4) * outScale; y[5] = (a5.sum() + t5) * outScale
    y[6] = (a6.sum() + t6) * outScale; y[7] = (a7.sum() + t7) * outScale
}

/// One row with the arithmetic of each lane of `gemvPass`, before the output scale.
@inline(__always)
func gemvRow<D: WeightDecoding>(_: D.Type, _ xs: UnsafePointer<Float>, _ w: UnsafeRawPointer, cols: Int) -> Float {
    let xr = UnsafeRawPointer(xs)
    let vectorEnd = cols / 8 * 8
    var a = SIMD8<Float>()
    var c = 0
    while c < vectorEnd {
        a = a.addingProduct(D.load8(w, c), xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
        c += 8
    }
    var t: Float = 0
    while c < cols {
        t = t.addingProduct(D.load1(w, c), xs[c])
        c += 1
    }
    return a.sum() + t
}

/// The multiplier of row r of W in a transposed GEMV: its input x, for block-fp8 times 2^60
/// (fp8InputScale, taken back out of the sums) and then the scale of the row's band for column
/// block `block` (scaleCols blocks per band). In this order, which every transposed kernel
/// shares (`fp8InputBlockScale` multiplies the other way round and gives other bits).
@inline(__always)
func transposedMultiplier(_ x: Float, _ scales: UnsafeRawPointer?, row r: Int, block: Int, scaleCols: Int) -> Float {
    guard let scales else { return x }
    return x * fp8InputScale * scales.loadUnaligned(fromByteOffset: 4 * ((r / fp8Block) * scaleCols + block), as: Float.self)
}

/// y[c] = Σ_{r in rows} x[r - rows.lowerBound] · W[r, c] for c in 0..<cols (a GEMV with Wᵀ over
/// a band of rows; MLA's query absorption through W_UK). Same layouts as `gemvKernel`, rows
/// `rowBytes` apart (cols may be fewer than a row holds); x is not pre-scaled. Each y[c] is one
/// chain of FMAs over the rows in order; eight vectors of y stay in registers while the rows pass.
@inline(__always)
func gemvTransposedKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, rowBytes: Int
) {
    let scaleCols = (rowBytes / D.size + fp8Block - 1) / fp8Block
    let inputScale: Float = scales == nil ? 1 : fp8InputScale
    let yr = UnsafeMutableRawPointer(y)
    @inline(__always) func scale(_ r: Int, _ c: Int) -> Float {
        transposedMultiplier(x[r - rows.lowerBound], scales, row: r, block: c / fp8Block, scaleCols: scaleCols)
    }
    var c = 0
    while c + 64 <= cols {  // 64 columns lie in one scale block
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
        for r in rows {
            let wr = w + r * rowBytes, sv = SIMD8<Float>(repeating: scale(r, c))
            a0 = a0.addingProduct(D.load8(wr, c), sv); a1 = a1.addingProduct(D.load8(wr, c + 8), sv)
            a2 = a2.addingProduct(D.load8(wr, c + 16), sv); a3 = a3.addingProduct(D.load8(wr, c + 24), sv)
            a4 = a4.addingProduct(D.load8(wr, c + 32), sv); a5 = a5.addingProduct(D.load8(wr, c + 40), sv)
            a6 = a6.addingProduct(D.load8(wr, c + 48), sv); a7 = a7.addingProduct(D.load8(wr, c + 56), sv)
        }
        yr.storeBytes(of: a0, toByteOffset: 4 * c, as: SIMD8<Float>.self)
        yr.storeBytes(of: a1, toByteOffset: 4 * (c + 8), as: SIMD8<Float>.self)
        yr.storeBytes(of: a2, toByteOffset: 4 * (c + 16), as: SIMD8<Float>.self)
        yr.storeBytes(of: a3, toByteOffset: 4 * (c + 24), as: SIMD8<Float>.self)
        yr.storeBytes(of: a4, toByteOffset: 4 * (c + 32), as: SIMD8<Float>.self)
        yr.storeBytes(of: a5, toByteOffset: 4 * (c + 40), as: SIMD8<Float>.self)
        yr.storeBytes(of: a6, toByteOffset: 4 * (c + 48), as: SIMD8<Float>.self)
        yr.storeBytes(of: a7, toByteOffset: 4 * (c + 56), as: SIMD8<Float>.self)
        c += 64
    }
    while c + 8 <= cols {
        var a = SIMD8<Float>()
        for r in rows { a = a.addingProduct(D.load8(w + r * rowBytes, c), SIMD8<Float>(repeating: scale(r, c))) }
        yr.storeBytes(of: a, toByteOffset: 4 * c, as: SIMD8<Float>.self)
        c += 8
    }
    while c < cols {
        var a: Float = 0
        for r in rows { a = a.addingProduct(D.load1(w + r * rowBytes, c), scale(r, c)) }
        y[c] = a
        c += 1
    }
    if inputScale != 1 {
        for c in 0..<cols { y[c] *= inputScale }
    }
}

/// `gemvTransposedKernel` for several tokens: y_t[c] for t < tokens, x_t at x + t·xStride, y_t at
/// y + t·yStride, with the same bits per value. With thirty-two registers (and cols a multiple
/// of 16) the transposed passes decode each weight vector once for up to twelve tokens, whose
/// inputs go interleaved row by row into `interleaved` (12 · rows.count floats) first — fp8's
/// scaled per 128-column block as `gemvTransposedKernel` scales them.
@inline(__always)
func gemvTransposedBatchKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, rowBytes: Int,
    interleaved: UnsafeMutablePointer<Float>, registers: VectorRegisters
) {
    guard registers == .thirtyTwo, cols % 16 == 0 else {
        for t in 0..<tokens {
            gemvTransposedKernel(D.self, y + t * yStride, x + t * xStride, w, scales, rows: rows, cols: cols, rowBytes: rowBytes)
        }
        return
    }
    if tokens == 1 {
        gemvTransposedWide(D.self, y, x, w, scales, rows: rows, cols: cols, rowBytes: rowBytes)
        return
    }
    let n = rows.count, scaleCols = (rowBytes / D.size + fp8Block - 1) / fp8Block
    let inputScale: Float = scales == nil ? 1 : fp8InputScale
    withUnsafeTemporaryAllocation(of: UnsafeMutablePointer<Float>?.self, capacity: 12) { ys in
        var t0 = 0
        while t0 < tokens {
            let nt = min(12, tokens - t0), width = nt > 8 ? 12 : nt > 4 ? 8 : 4
            let pass = kimi_transposed_pass(D.widePasses, Int32(nt))!
            /// The group's inputs interleaved: x_{t0+j}[r] at (r - rows.lowerBound)·width + j (zero past nt),
            /// as their `transposedMultiplier`s for column block `block`.
            func interleave(block: Int) {
                for i in 0..<n {
                    for j in 0..<width {
                        let v = j < nt ? x[(t0 + j) * xStride + i] : 0
                        interleaved[i * width + j] = transposedMultiplier(
                            v, scales, row: rows.lowerBound + i, block: block, scaleCols: scaleCols)
                    }
                }
            }
            if scales == nil { interleave(block: 0) }
            var c = 0
            while c < cols {
                if scales != nil && c % fp8Block == 0 { interleave(block: c / fp8Block) }
                for j in 0..<12 { ys[j] = y + (t0 + (j < nt ? j : 0)) * yStride + c }
                pass(w + rows.lowerBound * rowBytes + c * D.size, rowBytes, n, interleaved, ys.baseAddress, nt)
                c += 16
            }
            t0 += nt
        }
    }
    if inputScale != 1 {
        for t in 0..<tokens {
            for c in 0..<cols { y[t * yStride + c] *= inputScale }
        }
    }
}

/// `gemvTransposedKernel` with thirty-two registers (the same bits: every y[c] is its own chain):
/// 256-column slices, each through `kimi_transposed_gemv` with the rows' multipliers for the
/// slice's two column blocks gathered first.
@inline(__always)
func gemvTransposedWide<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, rowBytes: Int
) {
    let n = rows.count, scaleCols = (rowBytes / D.size + fp8Block - 1) / fp8Block
    let inputScale: Float = scales == nil ? 1 : fp8InputScale
    let pass = kimi_transposed_gemv(D.widePasses)!
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * n) { s in
        var c0 = 0
        while c0 < cols {
            let width = min(2 * fp8Block, cols - c0)
            for i in 0..<n {
                for b in 0..<2 {  // a one-block slice never uses the second: it repeats a real block
                    let block = min(c0 / fp8Block + b, scaleCols - 1)
                    s[2 * i + b] = transposedMultiplier(x[i], scales, row: rows.lowerBound + i, block: block, scaleCols: scaleCols)
                }
            }
            pass(w + rows.lowerBound * rowBytes + c0 * D.size, rowBytes, n, s.baseAddress, width, y + c0)
            c0 += width
        }
    }
    if inputScale != 1 {
        for c in 0..<cols { y[c] *= inputScale }
    }
}

/// The kernels every weight product runs: AVX2's, with sixteen vector registers and eight-lane
/// FMA chains (this file, GEMM.swift), or AVX-512's wide passes, with thirty-two registers of
/// 512 bits and sixteen-lane chains (WidePasses.swift). Each gives every (token, row) one
/// arithmetic whatever the batch; the two give different bits.
public enum VectorRegisters: Sendable {
    case sixteen, thirtyTwo
    /// What this CPU and OS provide.
    public static let available: VectorRegisters = kimi_has_avx512() != 0 ? .thirtyTwo : .sixteen
}

/// y[t·yStride + r - rows.lowerBound] = Σ_c W[r, c] · x[t·cols + c] for a decode batch, with
/// sixteen registers: two rows at a time, each weight vector decoded in registers and
/// multiplied into four tokens' accumulators, the rows' weights reused from L1 for further
/// groups of four tokens. Every (token, row) gets exactly `gemvRow`'s arithmetic.
/// scaled: (tokens · cols).
@inline(__always)
func gemvBatchKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, scaled: UnsafeMutablePointer<Float>
) {
    let rowBytes = cols * D.size
    let outScale: Float = scales == nil ? 1 : fp8OutputScale
    var r = rows.lowerBound
    while r < rows.upperBound {
        let band = r / fp8Block
        let bandEnd = min((band + 1) * fp8Block, rows.upperBound)
        let xs = scaledInput(x, tokens: tokens, cols: cols, scales: scales, band: band, into: scaled)
        while r < bandEnd {
            let nr = min(2, bandEnd - r)
            // Groups of four tokens; a remainder of one or two goes through the two-token pass.
            var t0 = 0
            while t0 < tokens {
                let nt = min(4, tokens - t0)
                let out = y + t0 * yStride + r - rows.lowerBound
                if nt <= 2 {
                    gemvBatchPass(
                        D.self, TwoTokens.self, out, yStride: yStride, xs + t0 * cols, tokens: nt, w + r * rowBytes,
                        rows: nr, rowBytes: rowBytes, cols: cols, outScale: outScale, prefetch: t0 == 0)
                } else {
                    gemvBatchPass(
                        D.self, FourTokens.self, out, yStride: yStride, xs + t0 * cols, tokens: nt, w + r * rowBytes,
                        rows: nr, rowBytes: rowBytes, cols: cols, outScale: outScale, prefetch: t0 == 0)
                }
                t0 += nt
            }
            r += nr
        }
    }
}

/// How many tokens a `gemvBatchPass` computes: specialised per type, so a two-token pass has
/// no code for the other two.
protocol TokenGroup { static var width: Int { get } }
enum TwoTokens: TokenGroup { static var width: Int { 2 } }
enum FourTokens: TokenGroup { static var width: Int { 4 } }

/// Up to two rows × up to `G.width` tokens (missing ones alias the first and are not written).
@inline(__always)
func gemvBatchPass<D: WeightDecoding, G: TokenGroup>(
    _: D.Type, _: G.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ xs: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, rows: Int, rowBytes: Int, cols: Int, outScale: Float, prefetch: Bool
) {
    let w0 = w, w1 = rows > 1 ? w + rowBytes : w
    let x0 = UnsafeRawPointer(xs)
    let x1 = tokens > 1 ? x0 + 4 * cols : x0, x2 = tokens > 2 ? x0 + 8 * cols : x0, x3 = tokens > 3 ? x0 + 12 * cols : x0
    var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>(), a03 = SIMD8<Float>()
    var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
    @inline(__always) func step(_ c: Int) {
        let v0 = D.load8(w0, c), v1 = D.load8(w1, c)
        let b0 = x0.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        a00 = a00.addingProduct(v0, b0); a10 = a10.addingProduct(v1, b0)
        let b1 = x1.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
        a01 = a01.addingProduct(v0, b1); a11 = a11.addingProduct(v1, b1)
        if G.width > 2 {
            let b2 = x2.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
            a02 = a02.addingProduct(v0, b2); a12 = a12.addingProduct(v1, b2)
            let b3 = x3.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
            a03 = a03.addingProduct(v0, b3); a13 = a13.addingProduct(v1, b3)
        }
    }
    let vectorEnd = cols / 8 * 8
    let ahead = gemvRows * rowBytes
    var c = 0
    while c + 64 <= vectorEnd {
        if prefetch {
            var line = 0
            while line < 64 * D.size {
                kimi_prefetch(w0 + c * D.size + line + ahead)
                kimi_prefetch(w1 + c * D.size + line + ahead)
                line += 64
            }
        }
        step(c); step(c + 8); step(c + 16); step(c + 24); step(c + 32); step(c + 40); step(c + 48); step(c + 56)
        c += 64
    }
    while c < vectorEnd {
        step(c)
        c += 8
    }
    @inline(__always) func finish(_ a: SIMD8<Float>, row i: Int, token j: Int) {
        guard i < rows && j < tokens else { return }
        let row = i == 0 ? w0 : w1
        var t: Float = 0
        for c in vectorEnd..<cols { t = t.addingProduct(D.load1(row, c), xs[j * cols + c]) }
        y[j * yStride + i] = (a.sum() + t) * outScale
    }
    finish(a00, row: 0, token: 0); finish(a01, row: 0, token: 1); finish(a02, row: 0, token: 2); finish(a03, row: 0, token: 3)
    finish(a10, row: 1, token: 0); finish(a11, row: 1, token: 1); finish(a12, row: 1, token: 2); finish(a13, row: 1, token: 3)
}
