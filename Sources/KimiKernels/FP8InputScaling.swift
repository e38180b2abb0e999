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
