import Foundation
@_spi(Testing) import KimiKernels
import TestSupport
import Testing

/// Every kernel against a scalar reference written from the definition, in Double where the
/// kernel sums.
@Suite struct KernelTests {
    /// float8_e4m3fn from its definition: (-1)^s · 2^(e-7) · (1 + m/8), subnormals 2^-6 · m/8,
    /// e = 15 and m = 7 is NaN.
    static func fp8Reference(_ code: UInt8) -> Float {
        let sign: Float = code & 0x80 != 0 ? -1 : 1
        let e = Int((code >> 3) & 0xF), m = Float(code & 7)
        if e == 15 && m == 7 { return .nan }
        if e == 0 { return sign * powf(2, -6) * m / 8 }
        return sign * powf(2, Float(e - 7)) * (1 + m / 8)
    }

    @Test("fp8 e4m3 decoding is exact for all 254 non-NaN codes")
    func fp8Codes() {
        for code in 0...255 {
            let expected = Self.fp8Reference(UInt8(code))
            if expected.isNaN { continue }
            #expect(fp8E4M3ToFloat(UInt8(code)) == expected, "code \(code)")
        }
        #expect(fp8E4M3ToFloat(0x7E) == 448)
        #expect(fp8E4M3ToFloat(0x01) == powf(2, -9))
        #expect(fp8E4M3ToFloat(0x80).sign == .minus)
    }

    struct Matrix {
        let rows: Int, cols: Int
        let bytes: [UInt8]
        let scales: [Float]
        let dense: [Double]  // the exact values, (rows, cols)
        /// int4: the scales as stored (one per `group` columns of a row) in the scale dtype.
        var int4Scales: [UInt8] = []
        var group = 0
    }

    /// The int4 storages: compressed-tensors pack-quantized with bf16, f16 or f32 scales.
    static let int4Storages = ["int4-bf16", "int4-f16", "int4-f32"]
    static let storages = ["fp8", "bf16", "f16", "f32"] + int4Storages

    /// x rounded to bfloat16, to nearest with ties to even (x finite): bfloat16 is float32's
    /// top half.
    static func bf16Rounded(_ x: Float) -> Float {
        let bits = x.bitPattern, low = bits & 0xFFFF, up = bits & 0xFFFF_0000
        let half: UInt32 = 0x8000
        return Float(bitPattern: low > half || (low == half && up & 0x10000 != 0) ? up &+ 0x10000 : up)
    }

    /// An int4 matrix as compressed-tensors packs it: codes 0…15 (value + 8), eight per
    /// little-endian int32, column c in bits 4·(c % 8) of word c / 8; one scale per 32 columns
    /// (16, or the whole row, where the columns allow no 32); each value (code − 8) · scale,
    /// computed in the scale's dtype.
    static func randomInt4(rows: Int, cols: Int, scaleDType: String, rng: inout SplitMix) -> Matrix {
        let group = cols % 32 == 0 ? 32 : cols % 16 == 0 ? 16 : cols, groups = (cols + group - 1) / group
        let rowBytes = 4 * ((cols + 7) / 8)
        var bytes = [UInt8](repeating: 0, count: rows * rowBytes), stored: [UInt8] = [], dense: [Double] = []
        var scales: [Float] = []
        for _ in 0..<rows * groups {
            let s = Float(rng.unit() * 2 + 0.01) * powf(2, Float(Int(rng.next() % 9)) - 10)
            switch scaleDType {
            case "bf16":
                let b = bf16Rounded(s)
                scales.append(b)
                withUnsafeBytes(of: UInt16(b.bitPattern >> 16).littleEndian) { stored += $0 }
            case "f16":
                let h = Float16(s)
                scales.append(Float(h))
                withUnsafeBytes(of: h.bitPattern.littleEndian) { stored += $0 }
            default:
                scales.append(s)
                withUnsafeBytes(of: s.bitPattern.littleEndian) { stored += $0 }
            }
        }
        for r in 0..<rows {
            for c in 0..<cols {
                let code = UInt8(rng.next() % 16)
                bytes[r * rowBytes + c / 2] |= code << (4 * (c % 2))
                let exact = Float(Int(code) - 8) * scales[r * groups + c / group]
                let v: Float = scaleDType == "bf16" ? bf16Rounded(exact) : scaleDType == "f16" ? Float(Float16(exact)) : exact
                dense.append(Double(v))
            }
        }
        return Matrix(rows: rows, cols: cols, bytes: bytes, scales: [], dense: dense, int4Scales: stored, group: group)
    }

    /// A random matrix in `storage`'s dtype (fp8 codes without the NaN codes, block scales of
    /// varying magnitude) with its exact values.
    static func randomMatrix(rows: Int, cols: Int, storage: String, seed: UInt64) -> Matrix {
        var rng = SplitMix(seed: seed)
        if storage.hasPrefix("int4-") { return randomInt4(rows: rows, cols: cols, scaleDType: String(storage.dropFirst(5)), rng: &rng) }
        let scaleRows = (rows + 127) / 128, scaleCols = (cols + 127) / 128
        var bytes: [UInt8] = [], scales: [Float] = [], dense: [Double] = []
        switch storage {
        case "fp8":
            scales = (0..<scaleRows * scaleCols).map { _ in Float(rng.unit() * 2 + 0.01) * powf(2, Float(Int(rng.next() % 9)) - 4) }
            for r in 0..<rows {
                for c in 0..<cols {
                    var code = UInt8(truncatingIfNeeded: rng.next())
                    if code & 0x7F == 0x7F { code &= 0xFE }
                    bytes.append(code)
                    dense.append(Double(fp8Reference(code)) * Double(scales[(r / 128) * scaleCols + c / 128]))
                }
            }
        default:
            for _ in 0..<rows * cols {
                let v = Float(rng.unit() * 4 - 2)
                switch storage {
                case "bf16":
                    let bits = UInt16(v.bitPattern >> 16)
                    bytes += [UInt8(bits & 0xFF), UInt8(bits >> 8)]
                    dense.append(Double(Float(bitPattern: UInt32(bits) << 16)))
                case "f16":
                    let h = Float16(v)
                    bytes += [UInt8(h.bitPattern & 0xFF), UInt8(h.bitPattern >> 8)]
                    dense.append(Double(Float(h)))
                default:
                    withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes += $0 }
                    dense.append(Double(v))
                }
            }
        }
        return Matrix(rows: rows, cols: cols, bytes: bytes, scales: scales, dense: dense)
    }

    static func withWeight<R>(_ m: Matrix, _ storage: String, _ body: (WeightMatrix) throws -> R) rethrows -> R {
        // One spare byte in front, so the data is misaligned like tensors in a safetensors file.
        let data = [UInt8](repeating: 0, count: 1) + m.bytes
        let scaleBytes =
            [UInt8](repeating: 0, count: 3) + m.scales.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
            + m.int4Scales
        return try data.withUnsafeBytes { d in
            try scaleBytes.withUnsafeBytes { s in
                let kind: WeightMatrix.Storage
                switch storage {
                case "fp8": kind = .fp8(scales: s.baseAddress! + 3)
                case "int4-bf16": kind = .int4(Int4Scales(scales: s.baseAddress! + 3, dtype: .bf16, groupSize: m.group))
                case "int4-f16": kind = .int4(Int4Scales(scales: s.baseAddress! + 3, dtype: .f16, groupSize: m.group))
                case "int4-f32": kind = .int4(Int4Scales(scales: s.baseAddress! + 3, dtype: .f32, groupSize: m.group))
                case "bf16": kind = .bf16
                case "f16": kind = .f16
                default: kind = .f32
                }
                return try body(WeightMatrix(rows: m.rows, cols: m.cols, data: d.baseAddress! + 1, storage: kind))
            }
        }
    }

    static let shapes = [(1, 1), (3, 7), (5, 8), (7, 130), (133, 257), (260, 128), (64, 300)]

    @Test(
        "gemv matches a Double reference for every dtype, shape and row band",
        arguments: storages)
    func gemv(_ storage: String) {
        for (i, (rows, cols)) in Self.shapes.enumerated() {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(i))
            var rng = SplitMix(seed: 99)
            let x = (0..<cols).map { _ in Float(rng.unit() * 2 - 1) * (i == 3 ? 1e-6 : 1) }
            let scratch = KernelScratch(tokens: 1, columns: cols, rows: 0)
            for band in [0..<rows, (rows / 3)..<rows, 1..<max(1, rows - 1)] where !band.isEmpty {
                var y = [Float](repeating: .nan, count: band.count)
                Self.withWeight(m, storage) { w in w.multiply(into: &y, x, tokens: 1, rows: band, scratch: scratch) }
                for r in band {
                    var sum = 0.0, magnitude = 0.0
                    for c in 0..<cols {
                        sum += m.dense[r * cols + c] * Double(x[c])
                        magnitude += abs(m.dense[r * cols + c] * Double(x[c]))
                    }
                    let error = abs(Double(y[r - band.lowerBound]) - sum)
                    #expect(error <= 1e-6 * magnitude + 1e-30, "\(storage) \(rows)x\(cols) row \(r): \(y[r - band.lowerBound]) vs \(sum)")
                }
            }
        }
    }

    @Test(
        "a row's gemv result does not depend on which rows are computed with it",
        arguments: ["fp8", "bf16", "int4-bf16"])
    func gemvRowInvariance(_ storage: String) {
        let m = Self.randomMatrix(rows: 133, cols: 257, storage: storage, seed: 7)
        var rng = SplitMix(seed: 3)
        let x = (0..<257).map { _ in Float(rng.unit() * 2 - 1) }
        let scratch = KernelScratch(tokens: 1, columns: 257, rows: 0)
        var all = [Float](repeating: 0, count: 133)
        Self.withWeight(m, storage) { w in w.multiply(into: &all, x, tokens: 1, scratch: scratch) }
        for r in [0, 1, 2, 3, 4, 5, 127, 128, 131, 132] {
            var one: [Float] = [0]
            Self.withWeight(m, storage) { w in w.multiply(into: &one, x, tokens: 1, rows: r..<r + 1, scratch: scratch) }
            #expect(one[0] == all[r], "row \(r)")
        }
    }

    /// The register files this CPU can run: with each, the multi-token kernels must give the
    /// one-token bits.
    static let registerFiles: [VectorRegisters] = VectorRegisters.available == .thirtyTwo ? [.sixteen, .thirtyTwo] : [.sixteen]

    @Test(
        "the multi-token kernels give every (token, row) the one-token kernel's exact bits",
        arguments: storages, registerFiles)
    func gemmMatchesGemv(_ storage: String, _ registers: VectorRegisters) {
        for (i, (rows, cols)) in [(133, 257), (260, 128), (7, 130), (64, 300), (13, 1100)].enumerated() {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(70 + i))
            var rng = SplitMix(seed: 17)
            for tokens in [2, 3, 4, 5, 6, 7, 8, 9, 11, 16, 17, 20, 300] {
                let x = (0..<tokens * cols).map { _ in Float(rng.unit() * 2 - 1) }
                let band = 5..<rows
                var y = [Float](repeating: .nan, count: tokens * band.count)
                let scratch = KernelScratch(tokens: tokens, columns: cols, rows: 0)
                Self.withWeight(m, storage) { w in
                    w.multiply(into: &y, yStride: band.count, x, tokens: tokens, rows: band, scratch: scratch, registers: registers)
                }
                for t in 0..<tokens {
                    var one = [Float](repeating: .nan, count: band.count)
                    Array(x[t * cols..<(t + 1) * cols]).withUnsafeBufferPointer { xt in
                        Self.withWeight(m, storage) { w in
                            w.multiply(
                                into: &one, yStride: 0, xt.baseAddress!, tokens: 1, rows: band, scratch: scratch, registers: registers)
                        }
                    }
                    #expect(
                        Array(y[t * band.count..<(t + 1) * band.count]) == one,
                        "\(storage) \(rows)x\(cols), \(tokens) tokens, token \(t), \(registers) registers")
                }
            }
        }
    }

    /// A row of the wide passes from their definition (WidePasses.swift), in Float: lane l of
    /// sixteen chains the products of columns 16·s + l in order, lanes l and l + 8 are added,
    /// the eight sums added as SIMD8.sum() does, then the columns past the last multiple of
    /// sixteen, one chain. fp8: weights as value · 2^-120, inputs times block scale · 2^60, the
    /// result times 2^60. int4 with groups of a multiple of 32 columns: the columns in the int4
    /// order (kimi_int4.c), step 2b of 32-column block b its even columns 32b + 2l, step 2b + 1
    /// its odd ones.
    static func sixteenLaneRow(_ m: Matrix, _ storage: String, row r: Int, _ x: ArraySlice<Float>) -> Float {
        let cols = m.cols, end = cols / 16 * 16, x0 = x.startIndex
        func weight(_ c: Int) -> Float {
            storage == "fp8" ? fp8Reference(m.bytes[r * cols + c]) * powf(2, -120) : Float(m.dense[r * cols + c])
        }
        func input(_ c: Int) -> Float {
            storage == "fp8" ? x[x0 + c] * (m.scales[(r / 128) * ((cols + 127) / 128) + c / 128] * powf(2, 60)) : x[x0 + c]
        }
        /// The column at step s, lane l.
        func column(_ s: Int, _ l: Int) -> Int {
            guard storage.hasPrefix("int4-"), m.group % 32 == 0 else { return 16 * s + l }
            return 32 * (s / 2) + 2 * l + s % 2
        }
        var lanes = [Float](repeating: 0, count: 16)
        for s in 0..<end / 16 {
            for l in 0..<16 { lanes[l] = lanes[l].addingProduct(weight(column(s, l)), input(column(s, l))) }
        }
        var folded = SIMD8<Float>()
        for l in 0..<8 { folded[l] = lanes[l] + lanes[l + 8] }
        var tail: Float = 0
        for c in end..<cols { tail = tail.addingProduct(weight(c), input(c)) }
        return (folded.sum() + tail) * (storage == "fp8" ? powf(2, 60) : 1)
    }

    @Test(
        "with thirty-two registers every (token, row) is the sixteen-lane row, bit for bit",
        .enabled(if: VectorRegisters.available == .thirtyTwo), arguments: storages)
    func wideMatchesDefinition(_ storage: String) {
        for (i, (rows, cols)) in [(133, 257), (260, 128), (7, 130), (13, 1100), (3, 15), (9, 144)].enumerated() {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(90 + i))
            var rng = SplitMix(seed: 23)
            for tokens in [1, 2, 3, 5, 8, 9, 13] {
                let x = (0..<tokens * cols).map { _ in Float(rng.unit() * 2 - 1) }
                let band = min(5, rows - 1)..<rows
                var y = [Float](repeating: .nan, count: tokens * band.count)
                let scratch = KernelScratch(tokens: tokens, columns: cols, rows: 0)
                Self.withWeight(m, storage) { w in
                    w.multiply(into: &y, yStride: band.count, x, tokens: tokens, rows: band, scratch: scratch, registers: .thirtyTwo)
                }
                for t in 0..<tokens {
                    for r in band {
                        let expected = Self.sixteenLaneRow(m, storage, row: r, x[t * cols..<(t + 1) * cols])
                        #expect(
                            y[t * band.count + r - band.lowerBound].bitPattern == expected.bitPattern,
                            "\(storage) \(rows)x\(cols), \(tokens) tokens, token \(t), row \(r)")
                    }
                }
            }
        }
    }

    @Test("transposed gemv over a band of rows matches a Double reference", arguments: storages)
    func gemvTransposed(_ storage: String) {
        for (i, (rows, cols)) in Self.shapes.enumerated() where rows > 2 {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(40 + i))
            let band = 1..<rows - 1
            var rng = SplitMix(seed: 5)
            let x = (0..<band.count).map { _ in Float(rng.unit() * 2 - 1) }
            var y = [Float](repeating: .nan, count: cols)
            let scratch = KernelScratch(tokens: 1, columns: cols, rows: band.count)
            Self.withWeight(m, storage) { w in w.multiplyTransposed(into: &y, x, rows: band, scratch: scratch) }
            for c in 0..<cols {
                var sum = 0.0, magnitude = 0.0
                for r in band {
                    sum += Double(x[r - 1]) * m.dense[r * cols + c]
                    magnitude += abs(Double(x[r - 1]) * m.dense[r * cols + c])
                }
                #expect(abs(Double(y[c]) - sum) <= 1e-6 * magnitude + 1e-30, "\(storage) \(rows)x\(cols) col \(c)")
            }
        }
    }

    @Test(
        "transposed gemv for several tokens gives each token the single-token bits",
        arguments: storages, registerFiles)
    func gemvTransposedBatch(_ storage: String, _ registers: VectorRegisters) {
        // (rows, cols, columns used): all columns, a multiple of 16 short of a row (the cache's
        // latent inside an entry), and widths the passes leave to the per-token kernel.
        for (i, (rows, cols, columns)) in [(133, 256, 256), (260, 576, 512), (40, 128, 96), (7, 300, 300), (64, 40, 40)].enumerated() {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(90 + i))
            let band = 2..<rows - 1
            var rng = SplitMix(seed: 23)
            for tokens in [2, 3, 4, 5, 8, 9, 12, 13, 30] {
                let xStride = band.count + 3, yStride = columns + 5
                let x = (0..<tokens * xStride).map { _ in Float(rng.unit() * 2 - 1) }
                var y = [Float](repeating: .nan, count: tokens * yStride)
                let scratch = KernelScratch(tokens: tokens, columns: cols, rows: band.count)
                Self.withWeight(m, storage) { w in
                    w.multiplyTransposed(
                        into: &y, yStride: yStride, x, xStride: xStride, tokens: tokens, rows: band, columns: columns,
                        scratch: scratch, registers: registers)
                }
                for t in 0..<tokens {
                    var one = [Float](repeating: .nan, count: columns)
                    Array(x[t * xStride..<t * xStride + band.count]).withUnsafeBufferPointer { xt in
                        Self.withWeight(m, storage) { w in
                            w.multiplyTransposed(
                                into: &one, yStride: 0, xt.baseAddress!, xStride: 0, tokens: 1, rows: band, columns: columns,
                                scratch: scratch, registers: registers)
                        }
                    }
                    #expect(
                        Array(y[t * yStride..<t * yStride + columns]) == one,
                        "\(storage) \(rows)x\(cols) (\(columns) columns), \(tokens) tokens, token \(t), \(registers) registers")
                }
            }
        }
    }

    @Test(
        "weighted sums of rows give each weight vector the transposed product's bits and match a Double reference",
        arguments: storages, registerFiles)
    func weightedRowSums(_ storage: String, _ registers: VectorRegisters) {
        // (rows, cols, columns used): a cache entry's latent (a multiple of 16 short of the
        // entry), all columns, and widths left to the eight-lane kernels.
        for (i, (rows, cols, columns)) in [(37, 576, 512), (133, 256, 256), (9, 40, 40), (20, 300, 100)].enumerated() {
            let m = Self.randomMatrix(rows: rows, cols: cols, storage: storage, seed: UInt64(120 + i))
            var rng = SplitMix(seed: 31)
            for count in [1, 3, 8, 13] {
                let stride = rows + 2, yStride = columns + 3
                let weights = (0..<count * stride).map { _ in Float(rng.unit()) }
                var y = [Float](repeating: .nan, count: count * yStride)
                let scratch = KernelScratch(tokens: count, columns: cols, rows: rows)
                Self.withWeight(m, storage) { w in
                    w.sumRows(
                        weightedBy: weights, stride: stride, count: count, rows: rows, columns: columns, into: &y, yStride: yStride,
                        scratch: scratch, registers: registers)
                }
                for h in 0..<count {
                    var one = [Float](repeating: .nan, count: columns)
                    Array(weights[h * stride..<h * stride + rows]).withUnsafeBufferPointer { wh in
                        Self.withWeight(m, storage) { w in
                            w.multiplyTransposed(
                                into: &one, yStride: 0, wh.baseAddress!, xStride: 0, tokens: 1, rows: 0..<rows, columns: columns,
                                scratch: scratch, registers: registers)
                        }
                    }
                    #expect(
                        Array(y[h * yStride..<h * yStride + columns]) == one,
                        "\(storage) \(rows)x\(cols) (\(columns) columns), \(count) vectors, vector \(h), \(registers) registers")
                    for c in 0..<columns {
                        var sum = 0.0, magnitude = 0.0
                        for r in 0..<rows {
                            sum += Double(weights[h * stride + r]) * m.dense[r * cols + c]
                            magnitude += abs(Double(weights[h * stride + r]) * m.dense[r * cols + c])
                        }
                        #expect(abs(Double(y[h * yStride + c]) - sum) <= 1e-6 * magnitude + 1e-30, "\(storage) col \(c)")
                    }
                }
            }
        }
    }

    @Test("row() decodes exactly", arguments: storages)
    func rowLookup(_ storage: String) {
        let m = Self.randomMatrix(rows: 131, cols: 133, storage: storage, seed: 11)
        var out = [Float](repeating: 0, count: 133)
        for r in [0, 64, 130] {
            Self.withWeight(m, storage) { w in w.row(r, into: &out) }
            for c in 0..<133 {
                #expect(
                    Double(out[c]) == m.dense[r * 133 + c] || abs(Double(out[c]) - m.dense[r * 133 + c]) <= 1e-7 * abs(m.dense[r * 133 + c])
                )
            }
        }
    }

    @Test("rmsNorm, softmax, swiglu, rope and axpy match their definitions")
    func elementwise() {
        var rng = SplitMix(seed: 1)
        let n = 37
        let x = (0..<n).map { _ in Float(rng.unit() * 6 - 3) }
        let w = (0..<n).map { _ in Float(rng.unit() + 0.5) }

        var out = [Float](repeating: 0, count: n)
        rmsNorm(&out, x, w, n: n, eps: 1e-6)
        let ms = x.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(n)
        for i in 0..<n {
            let expected = Double(w[i]) * Double(x[i]) / (ms + 1e-6).squareRoot()
            #expect(abs(Double(out[i]) - expected) <= 1e-6 * abs(expected) + 1e-7)
        }

        var s = x.map { $0 * 20 }
        softmax(&s, n: n)
        let exps = x.map { exp(Double($0 * 20)) }
        let total = exps.reduce(0, +)
        for i in 0..<n { #expect(abs(Double(s[i]) - exps[i] / total) <= 1e-6) }

        var g = x
        swiglu(&g, w, n: n)
        for i in 0..<n {
            let expected = Double(x[i]) / (1 + exp(-Double(x[i]))) * Double(w[i])
            #expect(abs(Double(g[i]) - expected) <= 1e-6 * abs(expected) + 1e-7)
        }

        let half = 8
        var v = Array(x[0..<16])
        let angles = (0..<half).map { Double($0) * 0.7 + 0.1 }
        let cos = angles.map { Float(Foundation.cos($0)) }, sin = angles.map { Float(Foundation.sin($0)) }
        ropeInterleaved(&v, cos: cos, sin: sin, half: half)
        for i in 0..<half {
            let a = Double(x[2 * i]), b = Double(x[2 * i + 1]), c = Double(cos[i]), sn = Double(sin[i])
            #expect(abs(Double(v[2 * i]) - (a * c - b * sn)) <= 1e-6)
            #expect(abs(Double(v[2 * i + 1]) - (b * c + a * sn)) <= 1e-6)
        }

        var y = w
        axpy(&y, 0.5, x, n: n)
        for i in 0..<n { #expect(abs(Double(y[i]) - (Double(w[i]) + 0.5 * Double(x[i]))) <= 1e-6) }
    }
}
