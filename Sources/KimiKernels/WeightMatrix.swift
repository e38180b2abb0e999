/// Up to this many tokens, products stream the weights once with `gemvBatchKernel` (decode
/// batches: memory-bound); more use the tiled `gemmKernel` (prefill: compute-bound) — with
/// sixteen vector registers. With thirty-two, the wide passes (WidePasses.swift) keep every
/// product's register tiles in registers and take any number of tokens.
let gemvBatchLimit = 16

/// A [rows, cols] weight matrix inside a mapped shard, in its checkpoint dtype: block-fp8 or
/// packed int4 with their scales, or plain BF16 / F16 / F32. Nothing is converted or copied at
/// load. Sendable: `data` and the scales point into read-only mapped shards (or a KV cache's
/// entries, read while no one writes them), and the matrix only reads through them.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Equatable {
        /// float8_e4m3fn codes with F32 scales [ceil(rows/128), ceil(cols/128)].
        case fp8(scales: UnsafeRawPointer)
        /// compressed-tensors pack-quantized int4 (Int4Weights.swift).
        case int4(Int4Scales)
        case bf16, f16, f32
    }

    public let rows: Int
    public let cols: Int
    /// (rows, cols) elements, row-major (int4: `rowBytes` per row).
    public let data: UnsafeRawPointer
    public let storage: Storage

    public init(rows: Int, cols: Int, data: UnsafeRawPointer, storage: Storage) {
        self.rows = rows
        self.cols = cols
        self.data = data
        self.storage = storage
    }

    /// Bytes of one row's weights, scales apart.
    public var rowBytes: Int {
        switch storage {
        case .fp8: cols
        case .int4: 4 * ((cols + 7) / 8)
        case .bf16, .f16: 2 * cols
        case .f32: 4 * cols
        }
    }
    public var byteCount: Int { rows * rowBytes + scaleByteCount }
    /// Bytes read for `rows` of the matrix (their share of the scales included).
    public func byteCount(rows band: Range<Int>) -> Int { byteCount * band.count / rows }
    public var scaleByteCount: Int {
        switch storage {
        case .fp8: 4 * ((rows + fp8Block - 1) / fp8Block) * ((cols + fp8Block - 1) / fp8Block)
        case let .int4(q): rows * q.rowBytes(cols: cols)
        case .bf16, .f16, .f32: 0
        }
    }

    /// y[t·yStride + r - rows.lowerBound] = (W · x_t)[r] for t < tokens, r in `rows` (default:
    /// all), x (tokens, cols); yStride: rows.count unless given. Every (t, r) gets the same
    /// arithmetic whatever `tokens` and `rows` are. With sixteen vector registers the GEMV for
    /// one token, the batch kernel for a few, the tiled GEMM beyond; with thirty-two the wide
    /// passes for any number (each route its own bits, the same for every number of tokens).
    /// scratch: room for `tokens` tokens of `cols` columns.
    public func multiply(
        into y: UnsafeMutablePointer<Float>, yStride: Int? = nil, _ x: UnsafePointer<Float>, tokens: Int, rows: Range<Int>? = nil,
        scratch: KernelScratch
    ) {
        multiply(into: y, yStride: yStride, x, tokens: tokens, rows: rows, scratch: scratch, registers: .available)
    }

    /// `multiply` through the kernels of `registers` (tests compare the two routes).
    @_spi(Testing) public func multiply(
        into y: UnsafeMutablePointer<Float>, yStride: Int?, _ x: UnsafePointer<Float>, tokens: Int, rows: Range<Int>?,
        scratch: KernelScratch, registers: VectorRegisters
    ) {
        let rows = rows ?? 0..<self.rows, yStride = yStride ?? rows.count
        switch storage {
        case let .fp8(scales): multiply(FP8Decoding.self, scales, y, yStride, x, tokens, rows, scratch, registers)
        case let .int4(q): multiplyInt4(q, y, yStride, x, tokens, rows, scratch, registers)
        case .bf16: multiply(BF16Decoding.self, nil, y, yStride, x, tokens, rows, scratch, registers)
        case .f16: multiply(F16Decoding.self, nil, y, yStride, x, tokens, rows, scratch, registers)
        case .f32: multiply(F32Decoding.self, nil, y, yStride, x, tokens, rows, scratch, registers)
        }
    }

    @inline(__always)
    private func multiply<D: WeightDecoding>(
        _: D.Type, _ scales: UnsafeRawPointer?, _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ x: UnsafePointer<Float>,
        _ tokens: Int, _ rows: Range<Int>, _ scratch: KernelScratch, _ registers: VectorRegisters
    ) {
        if registers == .thirtyTwo {
            gemvWide(D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: rows, cols: cols, packed: scratch.input)
        } else if tokens == 1 {
            gemvKernel(D.self, y, x, data, scales, rows: rows, cols: cols, scaled: scratch.input)
        } else if tokens <= gemvBatchLimit {
            gemvBatchKernel(D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: rows, cols: cols, scaled: scratch.input)
        } else {
            gemmKernel(
                D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: rows, cols: cols, tile: scratch.tile,
                accumulators: scratch.accumulators)
        }
    }

    /// y_t[c] = Σ_{r in rows} x_t[r - rows.lowerBound] · W[r, c] for t < tokens, c < columns
    /// (default: all): Wᵀ applied to a band of rows, for MLA's query absorption through W_UK.
    /// x_t: (rows.count) at x + t·xStride; y_t: (columns) at y + t·yStride. Each value is one
    /// chain of FMAs over the rows in order, whatever `tokens` is. scratch: room for
    /// `rows.count` rows.
    public func multiplyTransposed(
        into y: UnsafeMutablePointer<Float>, yStride: Int = 0, _ x: UnsafePointer<Float>, xStride: Int = 0, tokens: Int = 1,
        rows: Range<Int>, columns: Int? = nil, scratch: KernelScratch
    ) {
        multiplyTransposed(
            into: y, yStride: yStride, x, xStride: xStride, tokens: tokens, rows: rows, columns: columns, scratch: scratch,
            registers: .available)
    }

    /// `multiplyTransposed` through the kernels of `registers` (tests compare the two routes).
    @_spi(Testing) public func multiplyTransposed(
        into y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
        rows: Range<Int>, columns: Int?, scratch: KernelScratch, registers: VectorRegisters
    ) {
        let n = columns ?? cols
        switch storage {
        case let .fp8(scales): transposed(FP8Decoding.self, scales, y, yStride, x, xStride, tokens, rows, n, scratch, registers)
        case let .int4(q): multiplyTransposedInt4(q, y, yStride, x, xStride, tokens, rows, n, scratch, registers)
        case .bf16: transposed(BF16Decoding.self, nil, y, yStride, x, xStride, tokens, rows, n, scratch, registers)
        case .f16: transposed(F16Decoding.self, nil, y, yStride, x, xStride, tokens, rows, n, scratch, registers)
        case .f32: transposed(F32Decoding.self, nil, y, yStride, x, xStride, tokens, rows, n, scratch, registers)
        }
    }

    @inline(__always)
    private func transposed<D: WeightDecoding>(
        _: D.Type, _ scales: UnsafeRawPointer?, _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ x: UnsafePointer<Float>,
        _ xStride: Int, _ tokens: Int, _ rows: Range<Int>, _ columns: Int, _ scratch: KernelScratch, _ registers: VectorRegisters
    ) {
        gemvTransposedBatchKernel(
            D.self, y, yStride: yStride, x, xStride: xStride, tokens: tokens, data, scales, rows: rows, cols: columns,
            rowBytes: cols * D.size, interleaved: scratch.interleaved, registers: registers)
    }

    /// Row `r` as Float (an embedding lookup). out: (cols).
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let p = data + r * rowBytes
        switch storage {
        case let .fp8(scales):
            let scaleCols = (cols + fp8Block - 1) / fp8Block
            for c in 0..<cols {
                let s = scales.loadUnaligned(fromByteOffset: 4 * ((r / fp8Block) * scaleCols + c / fp8Block), as: Float.self)
                out[c] = fp8E4M3ToFloat(p.load(fromByteOffset: c, as: UInt8.self)) * s
            }
        case let .int4(q): dequantize(q, rows: r, count: 1, columns: 0..<cols, into: out, outStride: cols)
        case .bf16: for c in 0..<cols { out[c] = BF16Decoding.load1(p, c) }
        case .f16: for c in 0..<cols { out[c] = F16Decoding.load1(p, c) }
        case .f32: for c in 0..<cols { out[c] = F32Decoding.load1(p, c) }
        }
    }
}
