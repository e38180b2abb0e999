import CKimiKernels

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
