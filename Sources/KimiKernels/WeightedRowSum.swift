extension WeightMatrix {
    /// y[h·yStride + c] = Σ_{r < rows} weights[h·stride + r] · W[r, c] for h < count, c < columns:
    /// many weighted sums of the same rows (attention's score-weighted sum of cache entries,
    /// one per head), each one chain of FMAs over r in order — the values of `multiplyTransposed`.
    /// With sixteen registers the rows are decoded eight at a time into scratch and used for
    /// every weight vector, so each is decoded once whatever `count` is; with thirty-two (and
    /// columns a multiple of sixteen) and for block-fp8 the transposed passes run instead.
    /// scratch: room for `rows` rows of `columns` columns.
    public func sumRows(
        weightedBy weights: UnsafePointer<Float>, stride: Int, count: Int, rows: Int, columns: Int,
        into y: UnsafeMutablePointer<Float>, yStride: Int, scratch: KernelScratch
    ) {
        sumRows(
            weightedBy: weights, stride: stride, count: count, rows: rows, columns: columns, into: y, yStride: yStride,
            scratch: scratch, registers: .available)
    }

    /// `sumRows` through the kernels of `registers` (tests compare the two routes).
    @_spi(Testing) public func sumRows(
        weightedBy weights: UnsafePointer<Float>, stride: Int, count: Int, rows: Int, columns n: Int,
        into y: UnsafeMutablePointer<Float>, yStride: Int, scratch: KernelScratch, registers: VectorRegisters
    ) {
        let transposed = {
            multiplyTransposed(
                into: y, yStride: yStride, weights, xStride: stride, tokens: count, rows: 0..<rows, columns: n,
                scratch: scratch, registers: registers)
        }
        if registers == .thirtyTwo && n % 16 == 0 { return transposed() }
        switch storage {
        case .fp8, .int4: transposed()
        case .bf16: sumDecodedRows(BF16Decoding.self, weights, stride, count, rows, n, y, yStride, scratch.decodedRows)
        case .f16: sumDecodedRows(F16Decoding.self, weights, stride, count, rows, n, y, yStride, scratch.decodedRows)
        case .f32: sumDecodedRows(F32Decoding.self, weights, stride, count, rows, n, y, yStride, scratch.decodedRows)
        }
    }

    /// The sixteen-register route of `sumRows` for float dtypes. tile: (8, n).
    @inline(__always)
    private func sumDecodedRows<D: WeightDecoding>(
        _: D.Type, _ weights: UnsafePointer<Float>, _ stride: Int, _ count: Int, _ rows: Int, _ n: Int,
        _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ tile: UnsafeMutablePointer<Float>
    ) {
        let rowBytes = cols * D.size
        for h in 0..<count { (y + h * yStride).update(repeating: 0, count: n) }
        var r0 = 0
        while r0 < rows {
            let block = min(8, rows - r0)
            for b in 0..<block {
                let source = data + (r0 + b) * rowBytes, row = tile + b * n
                var i = 0
                while i + 8 <= n {
                    UnsafeMutableRawPointer(row + i).storeBytes(of: D.load8(source, i), as: SIMD8<Float>.self)
                    i += 8
                }
                while i < n {
                    row[i] = D.load1(source, i)
                    i += 1
                }
            }
            for h in 0..<count { accumulate(y + h * yStride, weights: weights + h * stride + r0, tile, rows: block, n: n) }
            r0 += block
        }
    }
}

/// out += Σ_b weights[b] · tile[b·n ..< b·n + n] for b < rows, in order of b: the chain of `axpy`
/// calls, with each run of eight vectors of out held in registers over the rows.
@inline(__always)
private func accumulate(
    _ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, _ tile: UnsafePointer<Float>, rows: Int, n: Int
) {
    let o = UnsafeMutableRawPointer(out), t = UnsafeRawPointer(tile)
    var i = 0
    while i + 64 <= n {
        var a0 = o.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
        var a1 = o.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
        var a2 = o.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self)
        var a3 = o.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self)
        var a4 = o.loadUnaligned(fromByteOffset: 4 * i + 128, as: SIMD8<Float>.self)
        var a5 = o.loadUnaligned(fromByteOffset: 4 * i + 160, as: SIMD8<Float>.self)
        var a6 = o.loadUnaligned(fromByteOffset: 4 * i + 192, as: SIMD8<Float>.self)
        var a7 = o.loadUnaligned(fromByteOffset: 4 * i + 224, as: SIMD8<Float>.self)
        for b in 0..<rows {
            let w = SIMD8<Float>(repeating: weights[b]), e = 4 * (b * n + i)
            a0 = a0.addingProduct(t.loadUnaligned(fromByteOffset: e, as: SIMD8<Float>.self), w)
            a1 = a1.addingProduct(t.loadUnaligned(fromByteOffset: e + 32, as: SIMD8<Float>.self), w)
            a2 = a2.addingProduct(t.loadUnaligned(fromByteOffset: e + 64, as: SIMD8<Float>.self), w)
            a3 = a3.addingProduct(t.loadUnaligned(fromByteOffset: e + 96, as: SIMD8<Float>.self), w)
            a4 = a4.addingProduct(t.loadUnaligned(fromByteOffset: e + 128, as: SIMD8<Float>.self), w)
            a5 = a5.addingProduct(t.loadUnaligned(fromByteOffset: e + 160, as: SIMD8<Float>.self), w)
            a6 = a6.addingProduct(t.loadUnaligned(fromByteOffset: e + 192, as: SIMD8<Float>.self), w)
            a7 = a7.addingProduct(t.loadUnaligned(fromByteOffset: e + 224, as: SIMD8<Float>.self), w)
        }
        o.storeBytes(of: a0, toByteOffset: 4 * i, as: SIMD8<Float>.self)
        o.storeBytes(of: a1, toByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
        o.storeBytes(of: a2, toByteOffset: 4 * i + 64, as: SIMD8<Float>.self)
        o.storeBytes(of: a3, toByteOffset: 4 * i + 96, as: SIMD8<Float>.self)
        o.storeBytes(of: a4, toByteOffset: 4 * i + 128, as: SIMD8<Float>.self)
        o.storeBytes(of: a5, toByteOffset: 4 * i + 160, as: SIMD8<Float>.self)
        o.storeBytes(of: a6, toByteOffset: 4 * i + 192, as: SIMD8<Float>.self)
        o.storeBytes(of: a7, toByteOffset: 4 * i + 224, as: SIMD8<Float>.self)
        i += 64
    }
    if i < n {
        for b in 0..<rows { axpy(out + i, weights[b], tile + b * n + i, n: n - i) }
    }
}
