import CKimiKernels

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
    // The two rows eight rows on, asked for in address order as in `gemvPass`.
    let ahead = w + gemvRows * rowBytes
    var c = 0
    while c + 64 <= vectorEnd {
        if prefetch {
            let from = ahead + 2 * c * D.size
            var line = 0
            while line < 2 * 64 * D.size {
                kimi_prefetch(from + line)
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
