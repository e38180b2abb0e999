import KimiKernels
import TestSupport
import Testing

/// The scheduler against each product computed alone on one thread: the same bits whatever the
/// grouping, the thread count and the NUMA split, every row written once, and the bytes it
/// reports being the bytes of the rows it multiplied.
@Suite struct ProductSchedulerTests {
    /// A random matrix in `storage`'s dtype that owns its memory (KernelTests.randomMatrix's
    /// values).
    final class OwnedMatrix {
        let data: UnsafeMutableRawPointer, scales: UnsafeMutableRawPointer
        let matrix: WeightMatrix

        init(rows: Int, cols: Int, storage: String, seed: UInt64) {
            let m = KernelTests.randomMatrix(rows: rows, cols: cols, storage: storage, seed: seed)
            data = .allocate(byteCount: max(m.bytes.count, 1), alignment: 64)
            data.copyMemory(from: m.bytes, byteCount: m.bytes.count)
            scales = .allocate(byteCount: max(4 * m.scales.count, 1), alignment: 64)
            scales.copyMemory(from: m.scales, byteCount: 4 * m.scales.count)
            let kind: WeightMatrix.Storage =
                switch storage {
                case "fp8": .fp8(scales: UnsafeRawPointer(scales))
                case "bf16": .bf16
                case "f16": .f16
                default: .f32
                }
            matrix = WeightMatrix(rows: rows, cols: cols, data: data, storage: kind)
        }

        deinit {
            data.deallocate()
            scales.deallocate()
        }
    }

    static func placement(threads: Int, nodes: Int) -> NUMAPlacement {
        let topology = NUMATopology(nodes: (0..<nodes).map { .init(id: $0, cpus: [], memoryBytes: 1 << 30) })
        return NUMAPlacement(topology: topology, threads: threads, policy: nodes > 1 ? .distribute : .off, experts: 4)
    }

    @Test(
        "a group of products gives each one its own bits on any threads and nodes, and reports their bytes",
        arguments: [(1, 1), (3, 1), (4, 2)])
    func products(_ threads: Int, _ nodes: Int) {
        let matrices = [
            OwnedMatrix(rows: 133, cols: 257, storage: "fp8", seed: 1), OwnedMatrix(rows: 50, cols: 64, storage: "bf16", seed: 2),
            OwnedMatrix(rows: 300, cols: 40, storage: "f32", seed: 3), OwnedMatrix(rows: 24, cols: 130, storage: "f16", seed: 4),
        ]
        let scheduler = ProductScheduler(placement: Self.placement(threads: threads, nodes: nodes), tokens: 20, columns: 257, rows: 0)
        let alone = KernelScratch(tokens: 20, columns: 257, rows: 0)
        var rng = SplitMix(seed: 9)
        for tokens in [1, 3, 20] {
            // Per matrix: all rows, or a band written with a wider stride; on node k = index % nodes.
            let bands = matrices.enumerated().map { i, m in i % 2 == 0 ? 0..<m.matrix.rows : 5..<m.matrix.rows - 3 }
            let strides = matrices.enumerated().map { i, m in bands[i].count + (i % 2 == 0 ? 0 : 7) }
            let inputs = matrices.map { m in (0..<tokens * m.matrix.cols).map { _ in Float(rng.unit() * 2 - 1) } }
            var outputs = matrices.indices.map { [Float](repeating: .nan, count: tokens * strides[$0]) }
            let bytes = inputs.withNestedPointers(&outputs) { x, y in
                scheduler.run { products in
                    for (i, m) in matrices.enumerated() {
                        products.append(
                            Product(
                                m.matrix, x[i], tokens: tokens, into: y[i], rows: bands[i], yStride: strides[i],
                                node: nodes > 1 ? i % nodes : nil))
                    }
                }
            }
            #expect(bytes == matrices.indices.reduce(0) { $0 + matrices[$1].matrix.byteCount * bands[$1].count / matrices[$1].matrix.rows })
            for (i, m) in matrices.enumerated() {
                var expected = [Float](repeating: .nan, count: tokens * strides[i])
                m.matrix.multiply(into: &expected, yStride: strides[i], inputs[i], tokens: tokens, rows: bands[i], scratch: alone)
                for t in 0..<tokens {
                    let row = t * strides[i]..<t * strides[i] + bands[i].count
                    #expect(Array(outputs[i][row]) == Array(expected[row]), "matrix \(i), \(tokens) tokens, token \(t)")
                    let pastBand = outputs[i][row.upperBound..<t * strides[i] + strides[i]]
                    #expect(pastBand.allSatisfy { $0.isNaN }, "within the stride, past the band: untouched")
                }
            }
        }
    }

    @Test("transposed products give each one its own bits and report their bytes", arguments: [1, 3])
    func transposed(_ threads: Int) {
        let m = OwnedMatrix(rows: 6 * 40, cols: 96, storage: "fp8", seed: 5)
        let scheduler = ProductScheduler(placement: Self.placement(threads: threads, nodes: 1), tokens: 5, columns: 96, rows: 40)
        let alone = KernelScratch(tokens: 5, columns: 96, rows: 40)
        var rng = SplitMix(seed: 6)
        let tokens = 5, heads = 6, band = 30  // per head: the first 30 of its 40 rows
        let x = (0..<tokens * heads * band).map { _ in Float(rng.unit() * 2 - 1) }
        var y = [Float](repeating: .nan, count: tokens * heads * 96)
        let bytes = x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                scheduler.runTransposed { products in
                    for h in 0..<heads {
                        products.append(
                            TransposedProduct(
                                m.matrix, rows: h * 40..<h * 40 + band, xp.baseAddress! + h * band, xStride: heads * band, tokens: tokens,
                                into: yp.baseAddress! + h * 96, yStride: heads * 96))
                    }
                }
            }
        }
        #expect(bytes == m.matrix.byteCount * heads * band / m.matrix.rows)
        for h in 0..<heads {
            var expected = [Float](repeating: .nan, count: tokens * heads * 96)
            x.withUnsafeBufferPointer { xp in
                m.matrix.multiplyTransposed(
                    into: &expected, yStride: heads * 96, xp.baseAddress! + h * band, xStride: heads * band, tokens: tokens,
                    rows: h * 40..<h * 40 + band, scratch: alone)
            }
            for t in 0..<tokens {
                #expect(Array(y[(t * heads + h) * 96..<(t * heads + h + 1) * 96]) == Array(expected[t * heads * 96..<t * heads * 96 + 96]))
            }
        }
    }
}

extension Array where Element == [Float] {
    /// Calls `body` with a pointer to each array of `self` and of `outputs`, valid during the call.
    func withNestedPointers<R>(
        _ outputs: inout [[Float]], _ body: ([UnsafePointer<Float>], [UnsafeMutablePointer<Float>]) -> R
    ) -> R {
        let x = map { a in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        let y = outputs.map { a in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        defer {
            x.forEach { $0.deallocate() }
            y.forEach { $0.deallocate() }
        }
        let result = body(x.map { UnsafePointer($0) }, y)
        for i in outputs.indices { outputs[i] = [Float](UnsafeBufferPointer(start: y[i], count: outputs[i].count)) }
        return result
    }
}
