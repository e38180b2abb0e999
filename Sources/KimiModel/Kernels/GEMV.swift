// Matrix-vector products over weights in their checkpoint dtype: the decode-time workhorse.
// A weight row is read once, decoded eight lanes at a time and multiplied into SIMD8 partial
// sums, four rows per pass; every 128-column block's partial sums are folded into the row's
// accumulator with the block's scale (fp8) by one FMA. A row's result depends only on that
// row and x: no arithmetic is shared between rows, so any row split (threads, batches) gives
// bit-identical outputs.

/// Columns per fp8 scale block (and per partial-sum fold for every dtype).
let gemvBlock = 128

/// y[r - rows.lowerBound] = Σ_c W[r, c] · x[c] for r in `rows`.
/// - w: [_, cols] row-major, element type `D`.
/// - scales: fp8 only, F32 [ceil(_/128), ceil(cols/128)]; nil for float dtypes.
/// - x: [cols]; for fp8 already multiplied by `fp8InputScale`.
@inline(__always)
func gemvKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int
) {
    let scaleCols = (cols + gemvBlock - 1) / gemvBlock
    let rowBytes = cols * D.size
    let xr = UnsafeRawPointer(x)
    /// The scales of the 128-row block holding `row` (nil: every block's scale is 1).
    @inline(__always) func scaleRow(_ row: Int) -> UnsafeRawPointer? { scales.map { $0 + 4 * (row / gemvBlock) * scaleCols } }
    var r = rows.lowerBound
    // Four rows per pass; a group of four never straddles a 128-row scale block when it starts
    // at a multiple of four, so it is aligned to 4 first.
    while r < rows.upperBound && (r % 4 != 0 || rows.upperBound - r < 4) {
        y[r - rows.lowerBound] = gemvRow(D.self, x, w + r * rowBytes, scaleRow(r), cols: cols)
        r += 1
    }
    while r + 4 <= rows.upperBound {
        let w0 = w + r * rowBytes, w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var t0: Float = 0, t1: Float = 0, t2: Float = 0, t3: Float = 0
        var c0 = 0
        var block = 0
        while c0 < cols {
            let c1 = min(c0 + gemvBlock, cols)
            var p0 = SIMD8<Float>(), p1 = SIMD8<Float>(), p2 = SIMD8<Float>(), p3 = SIMD8<Float>()
            var c = c0
            while c + 8 <= c1 {
                let xv = xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                p0 = p0.addingProduct(D.load8(w0, c), xv)
                p1 = p1.addingProduct(D.load8(w1, c), xv)
                p2 = p2.addingProduct(D.load8(w2, c), xv)
                p3 = p3.addingProduct(D.load8(w3, c), xv)
                c += 8
            }
            var q0: Float = 0, q1: Float = 0, q2: Float = 0, q3: Float = 0
            while c < c1 {
                let xc = x[c]
                q0 = q0.addingProduct(D.load1(w0, c), xc)
                q1 = q1.addingProduct(D.load1(w1, c), xc)
                q2 = q2.addingProduct(D.load1(w2, c), xc)
                q3 = q3.addingProduct(D.load1(w3, c), xc)
                c += 1
            }
            let s = blockScale(scaleRow(r), block)
            let sv = SIMD8<Float>(repeating: s)
            a0 = a0.addingProduct(p0, sv); a1 = a1.addingProduct(p1, sv)
            a2 = a2.addingProduct(p2, sv); a3 = a3.addingProduct(p3, sv)
            t0 = t0.addingProduct(q0, s); t1 = t1.addingProduct(q1, s)
            t2 = t2.addingProduct(q2, s); t3 = t3.addingProduct(q3, s)
            c0 = c1
            block += 1
        }
        let o = r - rows.lowerBound
        y[o] = a0.sum() + t0
        y[o + 1] = a1.sum() + t1
        y[o + 2] = a2.sum() + t2
        y[o + 3] = a3.sum() + t3
        r += 4
    }
    while r < rows.upperBound {
        y[r - rows.lowerBound] = gemvRow(D.self, x, w + r * rowBytes, scaleRow(r), cols: cols)
        r += 1
    }
}

/// Block `block`'s scale from a row of fp8 scales, times `fp8InputScale`; 1 without scales.
@inline(__always)
func blockScale(_ scaleRow: UnsafeRawPointer?, _ block: Int) -> Float {
    guard let scaleRow else { return 1 }
    return scaleRow.loadUnaligned(fromByteOffset: 4 * block, as: Float.self) * fp8InputScale
}

/// One row of `gemvKernel`, with the same arithmetic as each of its four lanes.
@inline(__always)
func gemvRow<D: WeightDecoding>(
    _: D.Type, _ x: UnsafePointer<Float>, _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, cols: Int
) -> Float {
    let xr = UnsafeRawPointer(x)
    var a = SIMD8<Float>()
    var t: Float = 0
    var c0 = 0
    var block = 0
    while c0 < cols {
        let c1 = min(c0 + gemvBlock, cols)
        var p = SIMD8<Float>()
        var c = c0
        while c + 8 <= c1 {
            p = p.addingProduct(D.load8(w, c), xr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self))
            c += 8
        }
        var q: Float = 0
        while c < c1 {
            q = q.addingProduct(D.load1(w, c), x[c])
            c += 1
        }
        let s = blockScale(scales, block)
        a = a.addingProduct(p, SIMD8<Float>(repeating: s))
        t = t.addingProduct(q, s)
        c0 = c1
        block += 1
    }
    return a.sum() + t
}

/// y[c] = Σ_{r in rows} x[r - rows.lowerBound] · W[r, c] for c in 0..<cols (a GEMV with Wᵀ over
/// a band of rows; MLA's query absorption through W_UK). Same layouts as `gemvKernel`; x is
/// not pre-scaled.
@inline(__always)
func gemvTransposedKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int
) {
    let scaleCols = (cols + gemvBlock - 1) / gemvBlock
    let rowBytes = cols * D.size
    let inputScale: Float = scales == nil ? 1 : fp8InputScale
    let yr = UnsafeMutableRawPointer(y)
    y.update(repeating: 0, count: cols)
    for r in rows {
        let wr = w + r * rowBytes
        let xv = x[r - rows.lowerBound] * inputScale
        var c0 = 0
        var block = 0
        while c0 < cols {
            let c1 = min(c0 + gemvBlock, cols)
            let s = scales.map { xv * $0.loadUnaligned(fromByteOffset: 4 * ((r / gemvBlock) * scaleCols + block), as: Float.self) } ?? xv
            let sv = SIMD8<Float>(repeating: s)
            var c = c0
            while c + 8 <= c1 {
                let acc = yr.loadUnaligned(fromByteOffset: 4 * c, as: SIMD8<Float>.self)
                yr.storeBytes(of: acc.addingProduct(D.load8(wr, c), sv), toByteOffset: 4 * c, as: SIMD8<Float>.self)
                c += 8
            }
            while c < c1 {
                y[c] = y[c].addingProduct(D.load1(wr, c), s)
                c += 1
            }
            c0 = c1
            block += 1
        }
    }
    if inputScale != 1 {
        for c in 0..<cols { y[c] *= inputScale }
    }
}
