import CKimiKernels

// Weight products on CPUs with AVX-512: CKimiKernels' wide passes keep register tiles of
// 4 fp8 rows or 2 rows of the wider dtypes × 1 token (the decode GEMV), 4 rows × 2…4 tokens or
// 3 rows × 8 tokens in the 32 vector registers while the columns pass, each 512-bit accumulator
// one (row, token)'s sixteen lanes, the tokens' inputs packed sixteen columns at a time so that
// one pointer walks them all (the decode GEMV reads its one token's input where it lies).
// Every (token, row) is the sixteen-lane row: one chain of sixteen-lane FMAs over the columns
// in order (lane l: columns 16·s + l), lanes l and l + 8 added, the eight sums added in
// SIMD8.sum()'s order, plus the columns past the last multiple of sixteen summed alone — so a
// result never depends on the tokens and rows around it. (These are not the eight-lane bits
// of the AVX2 kernels in GEMV.swift: each CPU runs one arithmetic for every product.)

/// Most bytes of packed input one `gemvWideBand` call takes (a block of tokens, at least
/// eight): it stays in L2 beside the band's weights while every row of the band passes over it.
let wideInputBytes = 256 * 1024

/// Columns per wide-pass step: the lanes of a 512-bit register.
let wideLanes = 16

/// The next token group of the wide passes with `left` tokens to go: eight while at least
/// eight are left (but nine go as 3 + 3 + 3), then 4 + 3, 3 + 3, 3 + 2, 4, 3 or 2 — a group of
/// one only for one token, which `gemvWideSingle` computes. (Not twelve: docs/performance.md.)
@inline(__always)
func wideGroup(_ left: Int) -> Int {
    left == 9 ? 3 : left >= 8 ? 8 : left == 7 || left == 4 ? 4 : left >= 5 || left == 3 ? 3 : left
}

/// y[t·yStride + r - rows.lowerBound] = Σ_c W[r, c] · x[t·cols + c] through the wide passes.
/// Block-fp8: per 128-row band, blocks of tokens packed with the band's scales folded in;
/// float dtypes: each block of tokens packed once for all rows. One token is not packed: the
/// decode GEMV scales x as it reads it. int4Order: W's columns are in the int4 kernels' order
/// (kimi_int4_order; dequantised int4 panels), so x is packed in it too (several tokens only).
/// packed: ((tokens + 1) · cols).
@inline(__always)
func gemvWide<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ x: UnsafePointer<Float>, tokens: Int,
    _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?, rows: Range<Int>, cols: Int, packed: UnsafeMutablePointer<Float>,
    int4Order: Bool = false
) {
    if tokens == 1 {
        gemvWideSingle(D.self, y, x, w, scales, rows: rows, cols: cols, blockScales: packed)
        return
    }
    let tokenBlock = max(8, wideInputBytes / (4 * cols) / 8 * 8)
    /// Rows `band` of every block of tokens, the input packed with `band`'s scales (nil: none).
    func blocks(rows band: Range<Int>, scaleBand: Int?) {
        var t0 = 0
        while t0 < tokens {
            let nt = min(tokenBlock, tokens - t0)
            let xt = x + t0 * cols
            let tailScale = scaleBand.map { fp8InputBlockScale(scales!, cols: cols, band: $0, block: (cols - 1) / fp8Block) }
            packedInput(xt, tokens: nt, cols: cols, scales: scaleBand.map { (scales!, $0) }, int4Order: int4Order, into: packed)
            gemvWideBand(
                D.self, y + t0 * yStride + band.lowerBound - rows.lowerBound, yStride: yStride, packed, xt, tailScale: tailScale,
                tokens: nt, w, rows: band, cols: cols, outScale: scales == nil ? 1 : fp8OutputScale)
            t0 += nt
        }
    }
    guard scales != nil else {
        blocks(rows: rows, scaleBand: nil)
        return
    }
    var r = rows.lowerBound
    while r < rows.upperBound {
        let band = r / fp8Block
        let bandEnd = min((band + 1) * fp8Block, rows.upperBound)
        blocks(rows: r..<bandEnd, scaleBand: band)
        r = bandEnd
    }
}

/// y[r - rows.lowerBound] = Σ_c W[r, c] · x[c] through the decode GEMV, its R rows (kimi_kernels.c) at
/// a time, each call asking for the lines at least 8 KB past its first row: a few short rows
/// ahead come too late for the narrow projections (docs/performance.md). Block-fp8: per 128-row
/// band, the band's input scales gathered into blockScales (cols / 128 + 1 floats) for the GEMV
/// to apply.
@inline(__always)
func gemvWideSingle<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafeRawPointer, _ scales: UnsafeRawPointer?,
    rows: Range<Int>, cols: Int, blockScales: UnsafeMutablePointer<Float>
) {
    var r: Int32 = 0
    let vectorEnd = cols / wideLanes * wideLanes, rowBytes = cols * D.size, gemv = kimi_wide_gemv(D.widePasses, &r)!
    let rowsPerCall = Int(r), ahead = max(rowsPerCall * rowBytes, 8192)  // past a call's own rows
    withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: Int(KIMI_GEMV_MAX_ROWS)) { passRows in
        // kimi_results' tails: rounded up to eight floats.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: (Int(KIMI_GEMV_MAX_ROWS) + 7) / 8 * 8) { tails in
            tails.initialize(repeating: 0)
            var r0 = rows.lowerBound
            while r0 < rows.upperBound {
                // Rows r0 ..< r1: at most rowsPerCall, within one band.
                let band = r0 / fp8Block, r1 = min(r0 + rowsPerCall, rows.upperBound, (band + 1) * fp8Block), nr = r1 - r0
                var tailScale: Float?
                if let scales, r0 == rows.lowerBound || r0 % fp8Block == 0 {
                    for b in 0...(cols - 1) / fp8Block { blockScales[b] = fp8InputBlockScale(scales, cols: cols, band: band, block: b) }
                }
                if scales != nil { tailScale = blockScales[(cols - 1) / fp8Block] }
                for i in 0..<rowsPerCall { passRows[i] = UnsafeRawPointer(w + (r0 + (i < nr ? i : 0)) * rowBytes) }
                if vectorEnd < cols {
                    wideTails(
                        D.self, into: tails.baseAddress!, w + r0 * rowBytes, rows: nr, rowBytes: rowBytes, x, tokens: 1,
                        group: 1, columns: vectorEnd..<cols, scale: tailScale, weightScale: 1)
                }
                var out = kimi_results(
                    tails: tails.baseAddress, outScale: scales == nil ? 1 : fp8OutputScale,
                    y: y + r0 - rows.lowerBound, yStride: 0, nr: nr, nt: 1)
                gemv(passRows.baseAddress, x, scales == nil ? nil : blockScales, vectorEnd, ahead, &out)
                r0 = r1
            }
        }
    }
}

/// x (tokens, cols) packed for the wide passes in the token groups of `wideGroup`: group after
/// group, for every sixteen-column step s < cols / 16 the group's tokens' sixteen values side by
/// side — packed[offset + 16·(width·s + j) + lane] = x[j, 16s + lane] · fp8InputBlockScale(band,
/// 16s / 128) for fp8 (`scales`: the matrix's scales and the band), x itself for float dtypes;
/// zero for a group's missing tokens. int4Order: each token's row first put in the int4
/// kernels' column order (kimi_int4_order; cols a multiple of 32).
@inline(__always)
func packedInput(
    _ x: UnsafePointer<Float>, tokens: Int, cols: Int, scales: (UnsafeRawPointer, band: Int)?, int4Order: Bool = false,
    into packed: UnsafeMutablePointer<Float>
) {
    guard !int4Order else {
        return withUnsafeTemporaryAllocation(of: Float.self, capacity: tokens * cols) { ordered in
            for t in 0..<tokens { kimi_int4_order(x + t * cols, cols, ordered.baseAddress! + t * cols) }
            packedInput(UnsafePointer(ordered.baseAddress!), tokens: tokens, cols: cols, scales: scales, into: packed)
        }
    }
    let steps = cols / wideLanes, stepsPerBlock = fp8Block / wideLanes
    let source = UnsafeRawPointer(x), target = UnsafeMutableRawPointer(packed)
    var t0 = 0, to = 0
    while t0 < tokens {
        let width = wideGroup(tokens - t0), nt = min(width, tokens - t0)
        var s = 0
        while s < steps {
            let blockEnd = min(s + stepsPerBlock, steps)
            let k = scales.map { fp8InputBlockScale($0.0, cols: cols, band: $0.band, block: s / stepsPerBlock) }
            while s < blockEnd {
                // The group's sixteen-column step s, token after token: contiguous stores.
                for j in 0..<width {
                    var v = SIMD16<Float>()
                    if j < nt {
                        v = source.loadUnaligned(fromByteOffset: 4 &* ((t0 &+ j) &* cols &+ 16 &* s), as: SIMD16<Float>.self)
                        if let k { v *= k }
                    }
                    target.storeBytes(of: v, toByteOffset: to, as: SIMD16<Float>.self)
                    to &+= 64
                }
                s &+= 1
            }
        }
        t0 += nt
    }
}

/// Columns per chunk of the 8-token passes: the chunk's packed inputs (8 · 512 floats, 16 KB)
/// stay in L1 while every pass of a block of rows runs over them, where whole rows' inputs
/// (64 KB for 2048 columns) would come from L2 for every pass.
let wideChunk = 512

/// Rows `rows` of one band × a block of tokens through the wide passes: blocks of 24 rows,
/// each computed for every token group of `wideGroup` (in passes of that group's 3 or 4
/// rows) while its rows are in L1 or L2; 8-token groups walk the columns in chunks of
/// `wideChunk`, every pass of the block over one chunk before the next. A pass's missing rows
/// alias its first and are not written; its missing tokens are zeros in `packed` and are not
/// written. The columns past the last multiple of sixteen are summed here from x (times
/// `tailScale` for fp8) and handed to a pass's last call, which finishes its results into
/// y[t·yStride + r - rows.lowerBound].
@inline(__always)
func gemvWideBand<D: WeightDecoding>(
    _: D.Type, _ y: UnsafeMutablePointer<Float>, yStride: Int, _ packed: UnsafePointer<Float>, _ x: UnsafePointer<Float>,
    tailScale: Float?, tokens: Int, _ w: UnsafeRawPointer, rows: Range<Int>, cols: Int, outScale: Float
) {
    let vectorEnd = cols / wideLanes * wideLanes, rowBytes = cols * D.size
    let block = 24
    withUnsafeTemporaryAllocation(of: UnsafeRawPointer?.self, capacity: 8) { passRows in
        // Float scratch: each (row, token)'s columns past the last multiple of sixteen (24 floats,
        // zero if none), then the accumulators of every pass of a block (at most 8 passes × 24 × 16).
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 24 + block * 8 * wideLanes) { scratch in
            let tails = scratch.baseAddress!, acc = tails + 24
            // Where a pass's last call leaves its results.
            withUnsafeTemporaryAllocation(of: kimi_results.self, capacity: 1) { results in
                tails.initialize(repeating: 0, count: 24)
                var b0 = rows.lowerBound
                while b0 < rows.upperBound {
                    let b1 = min(b0 + block, rows.upperBound)
                    var t0 = 0, offset = 0
                    while t0 < tokens {
                        let group = wideGroup(tokens - t0), nt = min(group, tokens - t0)
                        var height: Int32 = 0, weightScale: Float = 1
                        let pass = kimi_wide_pass(D.widePasses, Int32(group), &height, &weightScale)!
                        let passHeight = Int(height), passFloats = passHeight * group * wideLanes
                        let chunk = group == 8 ? wideChunk : max(vectorEnd, 1)
                        var c0 = 0
                        repeat {
                            let c1 = min(c0 + chunk, vectorEnd), last = c1 == vectorEnd
                            var r0 = b0, k = 0
                            while r0 < b1 {
                                let nr = min(passHeight, b1 - r0)
                                for i in 0..<passHeight { passRows[i] = UnsafeRawPointer(w + (r0 + (i < nr ? i : 0)) * rowBytes) }
                                if last {
                                    if vectorEnd < cols {
                                        wideTails(
                                            D.self, into: tails, w + r0 * rowBytes, rows: nr, rowBytes: rowBytes,
                                            x + t0 * cols, tokens: nt, group: group, columns: vectorEnd..<cols,
                                            scale: tailScale, weightScale: weightScale)
                                    }
                                    results[0] = kimi_results(
                                        tails: tails, outScale: outScale / weightScale,
                                        y: y + t0 * yStride + r0 - rows.lowerBound, yStride: yStride, nr: nr, nt: nt)
                                }
                                pass(
                                    passRows.baseAddress, packed + offset + group * c0, c0, c1, t0 == 0 ? gemvRows * rowBytes : 0,
                                    acc + k * passFloats, c0 == 0 ? 1 : 0, last ? UnsafePointer(results.baseAddress) : nil)
                                r0 += passHeight
                                k += 1
                            }
                            c0 = c1
                        } while c0 < vectorEnd
                        offset += group * vectorEnd
                        t0 += nt
                    }
                    b0 = b1
                }
            }
        }
    }
}

/// tails[i·group + j] = Σ_{c in columns} W[i, c] · x[j·cols + c] (x times `scale` for fp8) times
/// `weightScale`, for i < rows, j < tokens: one chain per (row, token), W's row i at
/// w + i·rowBytes, x's rows `columns.upperBound` apart.
@inline(__always)
func wideTails<D: WeightDecoding>(
    _: D.Type, into tails: UnsafeMutablePointer<Float>, _ w: UnsafeRawPointer, rows: Int, rowBytes: Int, _ x: UnsafePointer<Float>,
    tokens: Int, group: Int, columns: Range<Int>, scale: Float?, weightScale: Float
) {
    let cols = columns.upperBound
    for i in 0..<rows {
        let row = w + i * rowBytes
        for j in 0..<tokens {
            var tail: Float = 0
            for c in columns {
                let v = x[j * cols + c]
                tail = tail.addingProduct(D.load1(row, c), scale.map { v * $0 } ?? v)
            }
            tails[i * group + j] = tail * weightScale
        }
    }
}
