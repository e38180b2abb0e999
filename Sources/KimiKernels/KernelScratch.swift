/// The memory one thread's kernel calls work in, allocated once for the largest call it will
/// make, so that no product allocates. What each kernel keeps here is its own business; a caller
/// only says how large its calls get.
public final class KernelScratch {
    /// (tokens + 1, columns) a product's input prepared for its kernel: with a 128-row band's
    /// fp8 block scales folded in (GEMV, batch GEMV), packed sixteen columns at a time in token
    /// groups (wide passes), or a band's block scales alone (the wide decode GEMV).
    let input: UnsafeMutablePointer<Float>
    /// A GEMM weight tile and input panel (`gemmTileFloats`), and its accumulators for up to
    /// `tokens` tokens (GEMM.swift).
    let tile: UnsafeMutablePointer<Float>
    let accumulators: UnsafeMutablePointer<Float>
    /// (rows, 12) up to twelve inputs interleaved row by row for the transposed passes.
    let interleaved: UnsafeMutablePointer<Float>
    /// (8, columns) eight rows decoded for a weighted sum of rows.
    let decodedRows: UnsafeMutablePointer<Float>
    /// (int4PanelFloats) int4 rows dequantised for the float32 kernels (Int4Weights.swift).
    let int4Panel: UnsafeMutablePointer<Float>

    private let allocations: [UnsafeMutablePointer<Float>]

    /// Room for products of up to `tokens` tokens and `columns` columns, and for transposed
    /// products and weighted sums over up to `rows` rows.
    public init(tokens: Int, columns: Int, rows: Int) {
        func floats(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(n, 1))
            p.initialize(repeating: 0, count: max(n, 1))
            return p
        }
        input = floats((max(tokens, 1) + 1) * columns)
        tile = floats(gemmTileFloats)
        accumulators = floats(gemmAccumulatorFloats(tokens: max(tokens, 1)))
        interleaved = floats(12 * rows)
        decodedRows = floats(8 * columns)
        int4Panel = floats(int4PanelFloats)
        allocations = [input, tile, accumulators, interleaved, decodedRows, int4Panel]
    }

    deinit {
        for p in allocations { p.deallocate() }
    }
}
