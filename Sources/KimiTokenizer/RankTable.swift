/// Byte string → rank, for tiktoken's mergeable ranks: an open-addressing hash table over one
/// arena holding every token's bytes (no per-token allocations, lookups by pointer and length).
struct RankTable: Sendable {
    /// Every token's bytes, concatenated in rank order.
    private(set) var arena: [UInt8] = []
    /// (ranks + 1) start of each rank's bytes in `arena`; the last entry is arena.count.
    private(set) var starts: [Int32] = [0]
    /// Slots hold rank + 1 (0 = empty); the count is a power of two.
    private var slots: [UInt32]
    private var mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt32](repeating: 0, count: size)
        mask = size - 1
    }

    var count: Int { starts.count - 1 }

    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        var i = 0
        while i + 8 <= n {
            h = (h ^ UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            h ^= h >> 32
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(p[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ tail) &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 29
        return Int(truncatingIfNeeded: h)
    }

    /// Appends the next rank's token; false if the same bytes were added before.
    mutating func append(_ token: UnsafeBufferPointer<UInt8>) -> Bool {
        if lookup(token.baseAddress!, token.count) != nil { return false }
        let rank = UInt32(count)
        arena.append(contentsOf: token)
        starts.append(Int32(arena.count))
        var slot = Self.hash(token.baseAddress!, token.count) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = rank + 1
        return true
    }

    /// The rank of a byte string, if it is a token.
    @inline(__always)
    func lookup(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt32? {
        var slot = Self.hash(p, n) & mask
        return arena.withUnsafeBufferPointer { arena in
            starts.withUnsafeBufferPointer { starts in
                slots.withUnsafeBufferPointer { slots in
                    while true {
                        let entry = slots[slot]
                        if entry == 0 { return nil }
                        let rank = Int(entry - 1)
                        let start = Int(starts[rank]), length = Int(starts[rank + 1]) - start
                        if length == n && (n == 0 || memcmp(arena.baseAddress! + start, p, n) == 0) { return UInt32(rank) }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The bytes of a rank.
    func bytes(_ rank: Int) -> ArraySlice<UInt8> {
        arena[Int(starts[rank])..<Int(starts[rank + 1])]
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
