import CKimiKernels

// Matrix-vector products over weights in their checkpoint dtype, with sixteen vector registers
// (AVX2): the decode-time workhorse. For block-fp8, each 128-row band's block scales are folded
// into the input once (`scaledInput`, FP8InputScaling.swift), so a row is one chain of
// eight-lane FMAs over all its columns in order, the columns past the last multiple of eight
// summed alone, then one horizontal sum: eight rows per pass with one accumulator each,
// decoding the weights in registers. A row's result depends only on that row and x: no
// arithmetic is shared between rows, so any row split (threads, batches) gives bit-identical
// outputs, and the batch kernel (BatchGEMV.swift) and the GEMM (GEMM.swift) repeat exactly this
// arithmetic for every (row, token). On CPUs with AVX-512 every product runs the wide passes
// instead (WidePasses.swift).

/// Rows per GEMV pass.
let gemvRows = 8

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
/// and multiplied by the shared input vector. The next eight rows are prefetched meanwhile,
/// line after line in address order: the hardware prefetchers stop at the 4 KB page boundaries
/// of the mapped shards, and eight rows read side by side (eight streams a row apart) read
/// memory far slower than one stream does.
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
    // The next pass's rows follow these; each 64-column step asks for its share of them in
    // address order (one pass's worth over the pass).
    let next = w + gemvRows * rowBytes
    var c = 0
    while c + 64 <= vectorEnd {
        let from = next + gemvRows * c * D.size
        var line = 0
        while line < gemvRows * 64 * D.size {
            kimi_prefetch(from + line)
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
