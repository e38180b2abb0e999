import CKimiKernels

// Matrix × several vectors (a prefill chunk, the tokens routed to one expert; on CPUs with
// sixteen vector registers only — with thirty-two, `gemvBatchKernel` takes every size),
// with exactly the arithmetic of `gemvKernel` for every (token, row) pair: the input times the
// band's block scale (× 2^60), one chain of eight-lane FMAs over the columns in order, the
// columns past the last multiple of eight summed alone, one horizontal sum, the output scale.
// So a row's result is bit-identical whether it is computed alone (decode), in any chunk of a
// prompt, or beside other requests' rows — the engine's batch invariance rests on this.
//
// Blocking (the order of the FMAs of one (token, row) never changes, only which pairs run
// next to each other): a block of 24 rows of one 128-row band is decoded 512 columns at a
// time into a Float tile (48 KB, in L2; the same exact values the GEMV decodes on the fly);
// four tokens' 512 columns, each 128-column block times its own scale, are packed into a panel
// (8 KB, in L1); the microkernel multiplies three tile rows by the four panel rows
// (`kimi_tile3x4`, in C: twelve accumulators, three weight vectors and one input vector fill
// the sixteen registers), and the panel is reused by all eight row triples of the block.
// Accumulators rest in `accumulators` between column tiles (each microkernel call loads and
// stores them, hence tiles several blocks wide; the width was measured: docs/performance.md);
// at most 256 tokens' worth (24 × 256 × 32 B = 192 KB, in L2), so a longer prompt is split
// into equal token blocks, each decoding the weights again (from L2).

/// Rows decoded together (a multiple of `gemmRows`); columns per tile (a multiple of the fp8
/// block); most tokens whose accumulators are kept together.
let gemmRowBlock = 24
let gemmCols = 512
let gemmTokenBlock = 256
/// Rows and tokens per microkernel call.
let gemmRows = 3
let gemmTokens = 4

/// Floats of the `tile` scratch: the decoded weight tile, then the input panel.
let gemmTileFloats = (gemmRowBlock + gemmTokens) * gemmCols

/// Floats of the `accumulators` scratch for up to `tokens` tokens.
func gemmAccumulatorFloats(tokens: Int) -> Int {
    9 * gemmRowBlock * min(gemmTokenBlock, (tokens + gemmTokens - 1) / gemmTokens * gemmTokens)
}

/// y[t·yStride + r - rows.lowerBound] = Σ_c W[r, c] · x[t·cols + c] for t < tokens, r in `rows`.
/// - x: (tokens, cols).
/// - tile: `gemmTileFloats`; accumulators: `gemmAccumulatorFloats(tokens:)`.
@inline(__always)
func gemmKernel<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int,
    tile: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>
) {
    var r0 = rows.lowerBound
    while r0 < rows.upperBound {
        let nr = min(gemmRowBlock, (r0 / fp8Block + 1) * fp8Block - r0, rows.upperBound - r0)
        // Token blocks of equal size (a multiple of four), none above gemmTokenBlock.
        let blocks = (tokens + gemmTokenBlock - 1) / gemmTokenBlock
        let blockTokens = ((tokens + blocks - 1) / blocks + gemmTokens - 1) / gemmTokens * gemmTokens
        var t0 = 0
        while t0 < tokens {
            let nt = min(blockTokens, tokens - t0)
            gemmBlock(
                D.self, y + t0 * yStride + r0 - rows.lowerBound, yStride: yStride, x + t0 * cols, tokens: nt, w, scales,
                rows: r0..<r0 + nr, cols: cols, tile: tile, accumulators: accumulators)
            t0 += nt
        }
        r0 += nr
    }
}

/// One block: up to `gemmRowBlock` rows of one band × up to `gemmTokenBlock` tokens.
/// y[t·yStride + r - rows.lowerBound] as in `gemmKernel`.
@inline(__always)
func gemmBlock<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int,
    tile: UnsafeMutablePointer<Float>, accumulators: UnsafeMutablePointer<Float>
) {
    let rowBytes = cols * D.size
    let outScale: Float = scales == nil ? 1 : fp8OutputScale
    let band = rows.lowerBound / fp8Block
    let nr = rows.count
    let tileBytes = UnsafeMutableRawPointer(tile)
    let panel = tile + gemmRowBlock * gemmCols
    let vectorEnd = cols / 8 * 8  // columns handled eight at a time; the rest one by one
    // Accumulators: SIMD8 per (row, token) at [row · padded + token], then one scalar tail each.
    let padded = (tokens + gemmTokens - 1) / gemmTokens * gemmTokens
    let lanes = UnsafeMutableRawPointer(accumulators).assumingMemoryBound(to: SIMD8<Float>.self)
    let tails = accumulators + 8 * gemmRowBlock * padded
    @inline(__always) func inputScale(block: Int) -> Float { fp8InputBlockScale(scales!, cols: cols, band: band, block: block) }

    for i in 0..<(nr + gemmRows - 1) / gemmRows * gemmRows * padded { lanes[i] = SIMD8<Float>() }
    var c0 = 0
    while c0 < vectorEnd {
        let c1 = min(c0 + gemmCols, vectorEnd)
        let steps = (c1 - c0) / 8
        // Decode rows × columns c0 ..< c1; ask for the next tile's lines.
        for i in 0..<nr {
            let row = w + (rows.lowerBound + i) * rowBytes
            var c = c0
            while c < c1 {
                tileBytes.storeBytes(of: D.load8(row, c), toByteOffset: 4 * (i * gemmCols + c - c0), as: SIMD8<Float>.self)
                c += 8
            }
            var line = 0
            while line < gemmCols * D.size {
                kimi_prefetch(row + c1 * D.size + line)
                line += 64
            }
        }
        var t0 = 0
        while t0 < tokens {
            let nt = min(gemmTokens, tokens - t0)
            // The panel: four tokens' columns c0 ..< c1 with the block scale folded in
            // (float weights: the input itself). Missing tokens alias the first; missing
            // rows alias the first of their triple; both land in padding accumulators.
            @inline(__always) func input(_ j: Int) -> UnsafePointer<Float> {
                if scales == nil { return x + (t0 + j) * cols + c0 }
                return UnsafePointer(panel + j * gemmCols)
            }
            if scales != nil {
                for j in 0..<nt {
                    let source = UnsafeRawPointer(x + (t0 + j) * cols + c0)
                    let row = UnsafeMutableRawPointer(panel + j * gemmCols)
                    var o = 0
                    while o < 32 * steps {
                        // One fp8 block's columns at a time, with that block's scale.
                        let s = inputScale(block: (c0 + o / 4) / fp8Block), blockEnd = min(o + 4 * fp8Block, 32 * steps)
                        while o < blockEnd {
                            let v: SIMD8<Float> = source.loadUnaligned(fromByteOffset: o, as: SIMD8<Float>.self) * s
                            row.storeBytes(of: v, toByteOffset: o, as: SIMD8<Float>.self)
                            o &+= 32
                        }
                    }
                }
            }
            let x0 = input(0), x1 = nt > 1 ? input(1) : x0, x2 = nt > 2 ? input(2) : x0, x3 = nt > 3 ? input(3) : x0
            var i0 = 0
            while i0 < nr {
                let w0 = UnsafePointer(tile + i0 * gemmCols)
                let w1 = i0 + 1 < nr ? w0 + gemmCols : w0
                let w2 = i0 + 2 < nr ? w0 + 2 * gemmCols : w0
                kimi_tile3x4(w0, w1, w2, x0, x1, x2, x3, steps, accumulators + 8 * (i0 * padded + t0), padded)
                i0 += gemmRows
            }
            t0 += nt
        }
        c0 = c1
    }
    // Columns past the last multiple of eight, one at a time, as the GEMV does.
    for i in 0..<nr {
        let row = w + (rows.lowerBound + i) * rowBytes
        for t in 0..<tokens {
            var q: Float = 0
            for c in vectorEnd..<cols {
                let xc = scales == nil ? x[t * cols + c] : x[t * cols + c] * inputScale(block: c / fp8Block)
                q = q.addingProduct(D.load1(row, c), xc)
            }
            tails[i * padded + t] = q
        }
    }
    for i in 0..<nr {
        for t in 0..<tokens {
            y[t * yStride + i] = (lanes[i * padded + t].sum() + tails[i * padded + t]) * outScale
        }
    }
}
