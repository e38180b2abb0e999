/// A set of Unicode scalar values as sorted, disjoint, non-adjacent closed ranges.
struct ScalarSet: Equatable, Sendable {
    private(set) var ranges: [ClosedRange<UInt32>] = []

    static let maxScalar: UInt32 = 0x10FFFF
    /// Every scalar value (surrogates are not scalars; `utf8Sequences` skips them).
    static let all = ScalarSet([0...maxScalar])

    init(_ ranges: [ClosedRange<UInt32>] = []) {
        for r in ranges { insert(r) }
    }

    init(_ scalar: Unicode.Scalar) { self.init([scalar.value...scalar.value]) }

    var isEmpty: Bool { ranges.isEmpty }

    mutating func insert(_ r: ClosedRange<UInt32>) {
        var lo = r.lowerBound, hi = r.upperBound
        var out: [ClosedRange<UInt32>] = []
        var placed = false
        for x in ranges {
            if x.upperBound &+ 1 < lo {
                out.append(x)
            } else if hi &+ 1 < x.lowerBound {
                if !placed { out.append(lo...hi); placed = true }
                out.append(x)
            } else {
                lo = min(lo, x.lowerBound)
                hi = max(hi, x.upperBound)
            }
        }
        if !placed { out.append(lo...hi) }
        ranges = out
    }

    mutating func formUnion(_ other: ScalarSet) { for r in other.ranges { insert(r) } }

    /// The scalars of 0...0x10FFFF not in the set.
    var complement: ScalarSet {
        var out = ScalarSet()
        var next: UInt32 = 0
        for r in ranges {
            if r.lowerBound > next { out.ranges.append(next...(r.lowerBound - 1)) }
            next = r.upperBound &+ 1
        }
        if next <= Self.maxScalar && !(ranges.last.map { $0.upperBound == Self.maxScalar } ?? false) {
            out.ranges.append(next...Self.maxScalar)
        }
        return out
    }
}

/// The UTF-8 encodings of a range of scalar values as sequences of byte ranges: each sequence
/// matches, byte by byte, a run of scalars of one encoded length (surrogates excluded). The
/// splitting rule is the standard one (Russ Cox, "Regular Expression Matching in the Wild";
/// the utf8-ranges crate): split at the encoded-length boundaries, then wherever the low bits
/// of one continuation byte do not cover their whole span.
func utf8Sequences(_ lo: UInt32, _ hi: UInt32) -> [[ClosedRange<UInt8>]] {
    var out: [[ClosedRange<UInt8>]] = []
    func split(_ lo: UInt32, _ hi: UInt32) {
        if lo > hi { return }
        if lo <= 0xDFFF && hi >= 0xD800 {
            if lo < 0xD800 { split(lo, 0xD7FF) }
            if hi > 0xDFFF { split(0xE000, hi) }
            return
        }
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where lo <= boundary && hi > boundary {
            split(lo, boundary)
            split(boundary + 1, hi)
            return
        }
        if hi <= 0x7F {
            out.append([UInt8(lo)...UInt8(hi)])
            return
        }
        let n = hi <= 0x7FF ? 2 : hi <= 0xFFFF ? 3 : 4
        for i in 1..<n {
            let m: UInt32 = (1 << (6 * UInt32(i))) - 1
            if lo & ~m != hi & ~m {
                if lo & m != 0 {
                    split(lo, lo | m)
                    split((lo | m) + 1, hi)
                    return
                }
                if hi & m != m {
                    split(lo, (hi & ~m) - 1)
                    split(hi & ~m, hi)
                    return
                }
            }
        }
        let a = encode(lo), b = encode(hi)
        out.append((0..<a.count).map { a[$0]...b[$0] })
    }
    split(lo, hi)
    return out
}

/// The UTF-8 bytes of a scalar value (surrogates excluded by the callers).
func encode(_ v: UInt32) -> [UInt8] {
    switch v {
    case 0..<0x80: return [UInt8(v)]
    case 0x80..<0x800: return [UInt8(0xC0 | (v >> 6)), UInt8(0x80 | (v & 0x3F))]
    case 0x800..<0x10000: return [UInt8(0xE0 | (v >> 12)), UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
    default:
        return [UInt8(0xF0 | (v >> 18)), UInt8(0x80 | ((v >> 12) & 0x3F)), UInt8(0x80 | ((v >> 6) & 0x3F)), UInt8(0x80 | (v & 0x3F))]
    }
}
