import CKimiKernels
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One way of reading a buffer: each thread's contiguous share split into `streams` parts that
/// are read in turn, a 256-byte block of each at a time, with or without a non-temporal
/// prefetch a few kilobytes ahead in every part. Which is fastest depends on the CPU and the
/// memory (how many streams its prefetchers follow, how many misses a core keeps in flight).
public struct ReadPattern: Sendable, Equatable, CustomStringConvertible {
    public let streams: Int
    public let prefetch: Bool

    /// Every pattern `ReadBandwidth` measures.
    public static let all: [ReadPattern] = [1, 2, 4].flatMap { s in [false, true].map { ReadPattern(streams: s, prefetch: $0) } }

    public var description: String { "\(streams) stream\(streams == 1 ? "" : "s") per thread\(prefetch ? " + prefetchnta" : "")" }
}

/// What one `ReadBandwidth.measure()` found.
public struct BandwidthReading: Sendable {
    /// Bytes per second of each pattern of `ReadPattern.all`, in its order.
    public let byPattern: [Double]
    /// The fastest pattern's index in `ReadPattern.all`.
    public let best: Int

    public var bytesPerSecond: Double { byPattern[best] }
    public var pattern: ReadPattern { ReadPattern.all[best] }
}

/// A STREAM-like read test: the bandwidth at which the pool's threads read a buffer much larger
/// than the caches, as the best of several access patterns (`ReadPattern`), each thread summing
/// its share with SIMD loads into several independent accumulators, so that the loop is bound
/// by memory, not by adds.
public final class ReadBandwidth {
    public let bytes: Int
    let buffer: UnsafeMutableRawPointer
    let pool: ThreadPool

    /// Bytes read per step of a stream.
    static let block = 256
    /// How far ahead of each stream the prefetching patterns ask for lines.
    static let prefetchAhead = 4096

    public init(bytes: Int, pool: ThreadPool) {
        self.bytes = max(bytes / Self.block * Self.block, Self.block)
        self.pool = pool
        buffer = mmap(nil, self.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        // Touch every page with distinct values so none is a shared zero page.
        let floats = buffer.assumingMemoryBound(to: Float.self)
        pool.parallelFor(self.bytes / 4, align: 1024) { _, range in
            for i in range { floats[i] = Float(i & 1023) }
        }
    }

    deinit { munmap(buffer, bytes) }

    /// One timed pass over the whole buffer per pattern.
    public func measure() -> BandwidthReading {
        let rates = ReadPattern.all.map { measure($0) }
        return BandwidthReading(byPattern: rates, best: rates.indices.max { rates[$0] < rates[$1] }!)
    }

    /// One timed pass over the whole buffer in `pattern`, in bytes per second.
    public func measure(_ pattern: ReadPattern) -> Double {
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: pool.threads)
        defer { sums.deallocate() }
        let start = DispatchTime.now().uptimeNanoseconds
        pool.parallelFor(bytes / Self.block) { part, range in
            sums[part] = Self.sum(UnsafeRawPointer(buffer), blocks: range, pattern)
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        var total: Float = 0
        for i in 0..<pool.threads { total += sums[i] }
        precondition(total.isFinite)  // keeps the loads from being optimised away
        return Double(bytes) / seconds
    }

    /// The sum of the floats in blocks `blocks` of `p`, read in `pattern`.
    @_spi(Testing) public static func sum(_ p: UnsafeRawPointer, blocks: Range<Int>, _ pattern: ReadPattern) -> Float {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        var a4 = SIMD8<Float>(), a5 = SIMD8<Float>(), a6 = SIMD8<Float>(), a7 = SIMD8<Float>()
        @inline(__always) func read(_ b: Int) {
            let o = b &* block
            if pattern.prefetch {
                let ahead = p + o + prefetchAhead
                kimi_prefetch_stream(ahead)
                kimi_prefetch_stream(ahead + 64)
                kimi_prefetch_stream(ahead + 128)
                kimi_prefetch_stream(ahead + 192)
            }
            a0 += p.load(fromByteOffset: o, as: SIMD8<Float>.self)
            a1 += p.load(fromByteOffset: o + 32, as: SIMD8<Float>.self)
            a2 += p.load(fromByteOffset: o + 64, as: SIMD8<Float>.self)
            a3 += p.load(fromByteOffset: o + 96, as: SIMD8<Float>.self)
            a4 += p.load(fromByteOffset: o + 128, as: SIMD8<Float>.self)
            a5 += p.load(fromByteOffset: o + 160, as: SIMD8<Float>.self)
            a6 += p.load(fromByteOffset: o + 192, as: SIMD8<Float>.self)
            a7 += p.load(fromByteOffset: o + 224, as: SIMD8<Float>.self)
        }
        // Stream j: blocks first + j·length ..< first + (j + 1)·length; the rest after them.
        let streams = pattern.streams, length = blocks.count / streams, first = blocks.lowerBound
        for i in 0..<length {
            for j in 0..<streams { read(first &+ j &* length &+ i) }
        }
        for b in first + streams * length..<blocks.upperBound { read(b) }
        return ((a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7)).sum()
    }
}
