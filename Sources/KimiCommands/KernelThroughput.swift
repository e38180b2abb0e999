import Foundation
import KimiKernels
import KimiServing

/// The decode kernel's read rate on one thread with its weights in L2: a 256 KB matrix
/// multiplied by one token again and again. A core can stream weights from memory no faster
/// than this, so decode stays memory-bound while a core's share of the memory bandwidth is
/// below it.
enum KernelThroughput {
    /// The dtypes of Kimi K2's decode traffic: block-fp8 weights and the bf16 latent cache.
    enum DType: String, CaseIterable { case fp8, bf16 }

    static let bytes = 256 << 10
    static let cols = 1024

    /// Bytes per second of `multiply` over the matrix, timed for at least `seconds`.
    static func fromL2(_ dtype: DType, seconds: Double = 0.3) -> Double {
        let elementSize = dtype == .fp8 ? 1 : 2, rows = bytes / (cols * elementSize)
        var rng = SplitMix64(seed: 7)
        let data = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        let scaleCount = (rows + fp8Block - 1) / fp8Block * (cols / fp8Block)
        let scales = UnsafeMutablePointer<Float>.allocate(capacity: scaleCount)
        defer {
            data.deallocate()
            scales.deallocate()
        }
        scales.initialize(repeating: 1, count: scaleCount)
        for i in 0..<rows * cols {
            switch dtype {
            // fp8: bit 3 cleared, so never the NaN codes 0x7F and 0xFF; codes of exponent 0
            // (subnormal or zero) as rare as in a real checkpoint (1e-4 subnormal), since a
            // subnormal operand costs an FMA a microcode assist on Intel cores.
            case .fp8:
                var code = UInt8(truncatingIfNeeded: rng.next()) & 0xF7
                if code & 0x78 == 0, rng.nextUnit() >= 16e-4 { code |= 0x40 }
                data.storeBytes(of: code, toByteOffset: i, as: UInt8.self)
            case .bf16: data.storeBytes(of: bf16(Float(rng.nextUnit() * 2 - 1)), toByteOffset: 2 * i, as: UInt16.self)
            }
        }
        let w = WeightMatrix(rows: rows, cols: cols, data: data, storage: dtype == .fp8 ? .fp8(scales: scales) : .bf16)
        let x = (0..<cols).map { _ in Float(rng.nextUnit() * 2 - 1) }, scratch = KernelScratch(tokens: 1, columns: cols, rows: 0)
        var y = [Float](repeating: 0, count: rows)
        for _ in 0..<100 { w.multiply(into: &y, x, tokens: 1, scratch: scratch) }  // warms the caches
        var passes = 0, elapsed = 0.0
        let start = DispatchTime.now().uptimeNanoseconds
        while elapsed < seconds {
            for _ in 0..<100 { w.multiply(into: &y, x, tokens: 1, scratch: scratch) }
            passes += 100
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        precondition(y.allSatisfy(\.isFinite))
        return Double(passes * w.byteCount) / elapsed
    }
}
