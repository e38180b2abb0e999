/// Up to this many tokens, products stream the weights once with `gemvBatchKernel` (decode
/// batches: memory-bound); more use the tiled `gemmKernel` (prefill: compute-bound) — with
/// sixteen vector registers. With thirty-two, the wide passes (WidePasses.swift) keep every
/// product's register tiles in registers and take any number of tokens.
let gemvBatchLimit = 16

/// A [rows, cols] weight matrix inside a mapped shard, in its checkpoint dtype: block-fp8 with
/// its scales, or plain BF16 / F16 / F32. Nothing is converted or copied at load.
/// Sendable: `data` and the fp8 scales point into read-only mapped shards (or a KV cache's
/// entries, read while no one writes them), and the matrix only reads through them.
public struct WeightMatrix: @unchecked Sendable {
    public enum Storage: Equatable {
        /// float8_e4m3fn codes with F32 scales [ceil(rows/128), ceil(cols/128)].
        case fp8(scales: UnsafeRawPointer)
        case bf16, f16, f32
    }

    public let rows: Int
    public let cols: Int
    /// (rows, cols) elements, row-major.
    public let data: UnsafeRawPointer
    public let storage: Storage

    public init(rows: Int, cols: Int, data: UnsafeRawPointer, storage: Storage) {
        self.rows = rows
        self.cols = cols
        self.data = data
        self.storage = storage
    }

    public var elementSize: Int { if case .fp8 = storage { return 1 }; return storage == .f32 ? 4 : 2 }
    public var byteCount: Int { rows * cols * elementSize + scaleByteCount }
    public var scaleByteCount: Int {
        if case .fp8 = storage { return 4 * ((rows + fp8Block - 1) / fp8Block) * ((cols + fp8Block - 1) / fp8Block) }
        return 0
    }

    /// y[t·yStride + r - rows.lowerBound] = (W · x_t)[r] for t < tokens, r in `rows`, x
    /// (tokens, cols). Every (t, r) gets the same arithmetic whatever `tokens` and `rows` are.
    /// scaled: ((tokens + 1) · cols) floats; tile: `gemmTileFloats`, accumulators:
    /// `gemmAccumulatorFloats(tokens:)`, for tokens > 1. registers: the kernels to run — the
    /// eight-lane AVX2 kernels or the sixteen-lane wide passes (each its own bits, the same for
    /// every number of tokens; tests compare them).
    public func multiply(
        _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
        rows range: Range<Int>, scaled: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>,
        accumulators: UnsafeMutablePointer<Float>, registers: VectorRegisters = .available
    ) {
        switch storage {
        case let .fp8(scales):
            multiply(
                FP8Decoding.self, scales, y, yStride: yStride, x, tokens: tokens, rows: range, scaled: scaled, tile: tile,
                accumulators: accumulators, registers: registers)
        case .bf16:
            multiply(
                BF16Decoding.self, nil, y, yStride: yStride, x, tokens: tokens, rows: range, scaled: scaled, tile: tile,
                accumulators: accumulators, registers: registers)
        case .f16:
            multiply(
                F16Decoding.self, nil, y, yStride: yStride, x, tokens: tokens, rows: range, scaled: scaled, tile: tile,
                accumulators: accumulators, registers: registers)
        case .f32:
            multiply(
                F32Decoding.self, nil, y, yStride: yStride, x, tokens: tokens, rows: range, scaled: scaled, tile: tile,
                accumulators: accumulators, registers: registers)
        }
    }

    /// `multiply` for elements of type `D` (fp8 with its `scales`): with thirty-two registers the
    /// wide passes for any number of tokens; with sixteen the GEMV for one token, the batch
    /// kernel for a few, the tiled GEMM beyond.
    @inline(__always)
    private func multiply<D: WeightDecoding>(
        _: D.Type, _ scales: UnsafeRawPointer?, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>,
        tokens: Int, rows range: Range<Int>, scaled: UnsafeMutablePointer<Float>, tile: UnsafeMutablePointer<Float>,
        accumulators: UnsafeMutablePointer<Float>, registers: VectorRegisters
    ) {
        if registers == .thirtyTwo {
            gemvWide(D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: range, cols: cols, packed: scaled)
        } else if tokens == 1 {
            gemvKernel(D.self, y, x, data, scales, rows: range, cols: cols, scaled: scaled)
        } else if tokens <= gemvBatchLimit {
            gemvBatchKernel(D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: range, cols: cols, scaled: scaled)
        } else {
            gemmKernel(
                D.self, y, yStride: yStride, x, tokens: tokens, data, scales, rows: range, cols: cols, tile: tile,
                accumulators: accumulators)
        }
    }

    /// y[r - rows.lowerBound] = (W · x)[r] for r in `rows`, on one thread.
    /// - x: (cols); scratch: (cols), for the scaled input of fp8.
    public func gemv(
        _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows range: Range<Int>? = nil,
        scratch: UnsafeMutablePointer<Float>
    ) {
        multiply(y, yStride: 0, x, tokens: 1, rows: range ?? 0..<rows, scaled: scratch, tile: scratch, accumulators: scratch)
    }

    /// y_t[c] = Σ_{r in rows} x_t[r - rows.lowerBound] · W[r, c] for t < tokens, c < columns
    /// (default: all): Wᵀ applied to a band of rows, for MLA's query absorption through W_UK and
    /// attention's score-weighted sum of cache entries. x_t: (rows.count) at x + t·xStride; y_t:
    /// (columns) at y + t·yStride. Each value is one chain of FMAs over the rows in order,
    /// whatever `tokens` is. interleaved: 12 · rows.count floats of scratch, when tokens > 1.
    public func gemvTransposed(
        _ y: UnsafeMutablePointer<Float>, yStride: Int = 0, _ x: UnsafePointer<Float>, xStride: Int = 0,
        tokens: Int = 1, rows range: Range<Int>, columns: Int? = nil,
        interleaved: UnsafeMutablePointer<Float>? = nil, registers: VectorRegisters = .available
    ) {
        precondition(tokens == 1 || interleaved != nil, "several tokens need room to interleave their inputs")
        let n = columns ?? cols, rowBytes = cols * elementSize
        let scratch = interleaved ?? UnsafeMutablePointer(mutating: x)  // untouched for one token
        switch storage {
        case let .fp8(scales):
            gemvTransposedBatchKernel(
                FP8Decoding.self, y, yStride: yStride, x, xStride: xStride, tokens: tokens, data, scales,
                rows: range, cols: n, rowBytes: rowBytes, interleaved: scratch, registers: registers)
        case .bf16:
            gemvTransposedBatchKernel(
                BF16Decoding.self, y, yStride: yStride, x, xStride: xStride, tokens: tokens, data, nil,
                rows: range, cols: n, rowBytes: rowBytes, interleaved: scratch, registers: registers)
        case .f16:
            gemvTransposedBatchKernel(
                F16Decoding.self, y, yStride: yStride, x, xStride: xStride, tokens: tokens, data, nil,
                rows: range, cols: n, rowBytes: rowBytes, interleaved: scratch, registers: registers)
        case .f32:
            gemvTransposedBatchKernel(
                F32Decoding.self, y, yStride: yStride, x, xStride: xStride, tokens: tokens, data, nil,
                rows: range, cols: n, rowBytes: rowBytes, interleaved: scratch, registers: registers)
        }
    }

    /// Row `r` as Float (an embedding lookup). out: (cols).
    public func row(_ r: Int, into out: UnsafeMutablePointer<Float>) {
        let p = data + r * cols * elementSize
        switch storage {
        case let .fp8(scales):
            let scaleCols = (cols + fp8Block - 1) / fp8Block
            for c in 0..<cols {
                let s = scales.loadUnaligned(fromByteOffset: 4 * ((r / fp8Block) * scaleCols + c / fp8Block), as: Float.self)
                out[c] = fp8E4M3ToFloat(p.load(fromByteOffset: c, as: UInt8.self)) * s
            }
        case .bf16: for c in 0..<cols { out[c] = BF16Decoding.load1(p, c) }
        case .f16: for c in 0..<cols { out[c] = F16Decoding.load1(p, c) }
        case .f32: for c in 0..<cols { out[c] = F32Decoding.load1(p, c) }
        }
    }
}
