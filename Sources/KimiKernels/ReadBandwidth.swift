import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A STREAM-like read test: the bandwidth at which the pool's threads can read a buffer much
/// larger than the caches, each summing its contiguous share with SIMD loads (several
/// independent accumulators, so the loop is bound by memory, not by adds).
public final class ReadBandwidth {
    public let bytes: Int
    let buffer: UnsafeMutableRawPointer
    let pool: ThreadPool

    public init(bytes: Int, pool: ThreadPool) {
        self.bytes = max(bytes / 256 * 256, 256)
        self.pool = pool
        buffer = mmap(nil, self.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        // Touch every page with distinct values so none is a shared zero page.
        let floats = buffer.assumingMemoryBound(to: Float.self)
        pool.parallelFor(self.bytes / 4, align: 1024) { _, range in
            for i in range { floats[i] = Float(i & 1023) }
        }
    }

    deinit { munmap(buffer, bytes) }

    /// One timed pass over the whole buffer, in bytes per second.
    public func measure() -> Double {
        let blocks = bytes / 256
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.threads)
        defer { sums.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        pool.parallelFor(blocks) { part, range in
            let p = UnsafeRawPointer(buffer)
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
            for b in range {
                let o = b * 256
                a0 += p.load(fromByteOffset: o, as: SIMD8<Float>.self)
                a1 += p.load(fromByteOffset: o + 32, as: SIMD8<Float>.self)
                a2 += p.load(fromByteOffset: o + 64, as: SIMD8<Float>.self)
                a3 += p.load(fromByteOffset: o + 96, as: SIMD8<Float>.self)
                a4 += p.load(fromByteOffset: o + 128, as: SIMD8<Float>.self)
                a5 += p.load(fromByteOffset: o + 160, as: SIMD8<Float>.self)
                a6 += p.load(fromByteOffset: o + 192, as: SIMD8<Float>.self)
                a7 += p.load(fromByteOffset: o + 224, as: SIMD8<Float>.self)
            }
            sums[part] = ((a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7)).sum()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var total: Float = 0
        for i in 0..<pool.threads { total += sums[i] }
        precondition(total.isFinite)  // keeps the loads from being optimised away
        return Double(bytes) / seconds
    }
}
