import CKimiKernels

/// Where an int4 matrix's scales are and how they apply: compressed-tensors "pack-quantized"
/// (symmetric, group or channel strategy). Row r's weights are 4·ceil(cols/8) bytes of int32
/// words, column c's code in bits 4·(c % 8) of word c / 8, its value (code − 8) · scale[r, c /
/// groupSize] rounded to the scale's dtype, exactly as compressed-tensors dequantises.
/// Sendable: `scales` points into a read-only mapped shard.
public struct Int4Scales: Equatable, @unchecked Sendable {
    public enum DType: Int32, Sendable {
        case bf16 = 0, f16 = 1, f32 = 2
        public var size: Int { self == .f32 ? 4 : 2 }
    }

    /// (rows, ceil(cols / groupSize)) in `dtype`, row-major.
    public let scales: UnsafeRawPointer
    public let dtype: DType
    /// Columns per scale: a multiple of 16, or the whole row (channel strategy).
    public let groupSize: Int

    public init(scales: UnsafeRawPointer, dtype: DType, groupSize: Int) {
        self.scales = scales
        self.dtype = dtype
        self.groupSize = groupSize
    }

    /// Bytes of one row's scales.
    func rowBytes(cols: Int) -> Int { (cols + groupSize - 1) / groupSize * dtype.size }
}

/// What an int4 group size must be a multiple of (unless one group spans the row): a
/// sixteen-column step of the kernels never straddles two scales.
public let int4GroupMultiple = 16

/// Floats of a thread's dequantised int4 panel (KernelScratch.int4Panel): 1 MB, a few dozen
/// rows of K2's widest matrices, held in L2 while the float32 kernels pass over them.
let int4PanelFloats = 256 * 1024

extension WeightMatrix {
    /// Rows `r0 ..< r0 + count`, columns c0 ..< c1 dequantised into out (rows `outStride` apart).
    func dequantize(_ q: Int4Scales, rows r0: Int, count: Int, columns: Range<Int>, into out: UnsafeMutablePointer<Float>, outStride: Int) {
        let scaleRowBytes = q.rowBytes(cols: cols)
        kimi_int4_dequantize(
            data + r0 * rowBytes, rowBytes, q.scales + r0 * scaleRowBytes, scaleRowBytes, q.dtype.rawValue, q.groupSize,
            count, columns.lowerBound, columns.upperBound, out, outStride)
    }

    /// `multiply` for int4 weights: every (row, token) the float32 kernels' arithmetic over the
    /// dequantised row, so the bits are those of the same matrix stored dequantised in float32,
    /// whatever the number of tokens. On AVX-512 (columns a multiple of 16) one token goes
    /// through the int4 decode GEMV, which decodes in registers, several through the wide passes
    /// over panels of rows dequantised by the same kernel; with groups of a multiple of 32
    /// columns both take the columns in the int4 order (kimi_int4.c), W's and x's alike.
    /// Otherwise panels of rows dequantised in column order.
    func multiplyInt4(
        _ q: Int4Scales, _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ x: UnsafePointer<Float>, _ tokens: Int,
        _ rows: Range<Int>, _ scratch: KernelScratch, _ registers: VectorRegisters
    ) {
        let panelRows = max(1, int4PanelFloats / cols)
        if registers == .thirtyTwo && cols % wideLanes == 0 {
            // The int4 order pairs the halves of 32-column blocks, which groups of 32 hold whole.
            let ordered = q.groupSize % 32 == 0
            if tokens == 1 {
                guard ordered else { return gemvInt4(q, y, x, rows: rows) }
                kimi_int4_order(x, cols, scratch.input)
                return gemvInt4(q, y, scratch.input, rows: rows)
            }
            let scaleRowBytes = q.rowBytes(cols: cols)
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {
                let n = min(panelRows, rows.upperBound - r0)
                kimi_int4_dequantize_ordered(
                    data + r0 * rowBytes, rowBytes, q.scales + r0 * scaleRowBytes, scaleRowBytes, q.dtype.rawValue, q.groupSize, n, cols,
                    scratch.int4Panel, cols)
                gemvWide(
                    F32Decoding.self, y + (r0 - rows.lowerBound), yStride: yStride, x, tokens: tokens, scratch.int4Panel, nil,
                    rows: 0..<n, cols: cols, packed: scratch.input, int4Order: ordered)
                r0 += n
            }
            return
        }
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let n = min(panelRows, rows.upperBound - r0)
            dequantize(q, rows: r0, count: n, columns: 0..<cols, into: scratch.int4Panel, outStride: cols)
            WeightMatrix(rows: n, cols: cols, data: scratch.int4Panel, storage: .f32).multiply(
                into: y + (r0 - rows.lowerBound), yStride: yStride, x, tokens: tokens, rows: nil, scratch: scratch,
                registers: registers)
            r0 += n
        }
    }

    /// The int4 decode GEMV over `rows` (x in the int4 order), KIMI_INT4_GEMV_ROWS at a time
    /// (a call's missing rows alias its first and are not written), each call asking for the
    /// bytes at least 8 KB past its first row as `gemvWideSingle` does.
    private func gemvInt4(_ q: Int4Scales, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Range<Int>) {
        let perCall = Int(KIMI_INT4_GEMV_ROWS), scaleRowBytes = q.rowBytes(cols: cols)
        let ahead = max(perCall * rowBytes, 8192), scalesAhead = ahead / rowBytes * scaleRowBytes
        withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: 2 * perCall) { pointers in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 8) { tails in
                tails.initialize(repeating: 0)
                let passRows = pointers.baseAddress!, passScales = passRows + perCall
                var r0 = rows.lowerBound
                while r0 < rows.upperBound {
                    let nr = min(perCall, rows.upperBound - r0)
                    for i in 0..<perCall {
                        let r = r0 + (i < nr ? i : 0)
                        passRows[i] = UnsafeRawPointer(data + r * rowBytes)
                        passScales[i] = UnsafeRawPointer(q.scales + r * scaleRowBytes)
                    }
                    var out = kimi_results(tails: tails.baseAddress, outScale: 1, y: y + r0 - rows.lowerBound, yStride: 0, nr: nr, nt: 1)
                    kimi_int4_gemv(passRows, passScales, q.dtype.rawValue, q.groupSize, x, cols, ahead, scalesAhead, &out)
                    r0 += nr
                }
            }
        }
    }

    /// `multiplyTransposed` for int4 weights: the band's rows dequantised a slice of columns at
    /// a time (each y[c] depends only on column c) and multiplied as float32.
    func multiplyTransposedInt4(
        _ q: Int4Scales, _ y: UnsafeMutablePointer<Float>, _ yStride: Int, _ x: UnsafePointer<Float>, _ xStride: Int,
        _ tokens: Int, _ rows: Range<Int>, _ columns: Int, _ scratch: KernelScratch, _ registers: VectorRegisters
    ) {
        precondition(rows.count * wideLanes <= int4PanelFloats, "a transposed int4 band of \(rows.count) rows")
        let slice = max(wideLanes, min(columns, int4PanelFloats / max(rows.count, 1)) / wideLanes * wideLanes)
        var c0 = 0
        while c0 < columns {
            let n = min(slice, columns - c0)
            dequantize(q, rows: rows.lowerBound, count: rows.count, columns: c0..<c0 + n, into: scratch.int4Panel, outStride: n)
            WeightMatrix(rows: rows.count, cols: n, data: scratch.int4Panel, storage: .f32).multiplyTransposed(
                into: y + c0, yStride: yStride, x, xStride: xStride, tokens: tokens, rows: 0..<rows.count, columns: n,
                scratch: scratch, registers: registers)
            c0 += n
        }
    }
}
