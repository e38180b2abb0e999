/// The bounds of a `number` as exact conditions on the digits of its text. A validator reads
/// the text as Python's `float` does (correctly rounded to a double, ties to even) and compares
/// that double with the bound, so a text may lie slightly past a bound and still be valid
/// ("0.01" meets `minimum: 0.01`, whose double is above 0.01), or slightly inside and be
/// invalid. Each bound becomes the exact edge of the texts whose double meets it: the midpoint
/// between the bound's double and its neighbour, which is a dyadic fraction with a finite
/// decimal expansion. The edges are then snapped onto the grid of the texts the matcher
/// writes (at most `JSONMatcher.maxDigits` digits in the integer part and in the fraction), so
/// that a number is valid exactly when its magnitude lies between two grid points, inclusive.
struct NumberBounds: Sendable {
    /// The magnitudes a positive number may have, and a negative one (nil: no such number).
    let positive: MagnitudeRange?
    let negative: MagnitudeRange?

    /// A comparison with a double: `value op bound`.
    enum Relation { case atLeast, above, atMost, below }

    init(_ rule: NumberRule) {
        var plus: [(Relation, Double)] = [], minus: [(Relation, Double)] = []
        // For x = -v, the double of x is minus the double of v.
        if let lo = rule.lo {
            plus.append((rule.loExclusive ? .above : .atLeast, lo))
            minus.append((rule.loExclusive ? .below : .atMost, -lo))
        }
        if let hi = rule.hi {
            plus.append((rule.hiExclusive ? .below : .atMost, hi))
            minus.append((rule.hiExclusive ? .above : .atLeast, -hi))
        }
        positive = MagnitudeRange(plus)
        negative = MagnitudeRange(minus)
    }
}

/// Where the digits of a number so far stand against the digits of an edge at the same places
/// (for the integer part, while it has no more digits than the edge's).
enum DigitOrder: Int32 { case equal = 0, below = 1, above = 2 }

/// The magnitudes on the grid from `lower` to `upper`, inclusive.
struct MagnitudeRange: Sendable {
    /// nil: from 0.
    let lower: DecimalEdge?
    /// nil: up to the largest magnitude the grid holds.
    let upper: DecimalEdge?

    /// The magnitudes v ≥ 0 whose double meets every condition; nil when there is none.
    init?(_ conditions: [(NumberBounds.Relation, Double)]) {
        var lower: DecimalEdge?, upper: DecimalEdge?
        for (relation, bound) in conditions {
            switch relation {
            case .atLeast, .above:
                // double(v) > b is double(v) ≥ the next double; a non-positive bound holds for all.
                let b = relation == .above ? (bound < 0 ? 0 : bound.nextUp) : bound
                guard b > 0 else { continue }
                guard b.isFinite else { return nil }
                // double(v) ≥ b from the midpoint below b on (on it when ties round to b).
                let edge = DecimalEdge.lower(ExactDecimal(midpointOf: b.nextDown, b), inclusive: Self.isEven(b))
                guard let edge else { return nil }
                if lower.map({ edge > $0 }) ?? true { lower = edge }
            case .atMost, .below:
                let b = relation == .below ? bound.nextDown : bound
                guard b >= 0 else { return nil }
                // +0 and -0 are the same magnitude; every grid magnitude lies below 10^40.
                let c = b == 0 ? 0 : b
                guard c < 1e40 else { continue }
                guard let edge = DecimalEdge.upper(ExactDecimal(midpointOf: c, c.nextUp), inclusive: Self.isEven(c)) else { return nil }
                if upper.map({ edge < $0 }) ?? true { upper = edge }
            }
        }
        if let lower, let upper, upper < lower { return nil }
        self.lower = lower
        self.upper = upper
    }

    private static func isEven(_ d: Double) -> Bool { d.significandBitPattern & 1 == 0 }

    /// The orders to start a number with: a missing edge is passed from the start.
    var initialOrders: (lower: DigitOrder, upper: DigitOrder) {
        (lower == nil ? .above : .equal, upper == nil ? .below : .equal)
    }

    /// Whether a number whose integer part starts with `n` digits (0 for a lone `0`, which
    /// takes no more) may be completed into the range: some integer length N from n on has
    /// its smallest completion (the digits then zeros) at most `upper` and its largest (then
    /// nines, in the fraction too) at least `lower`.
    func reachable(integerDigits n: Int, more: Int, _ lo: DigitOrder, _ hi: DigitOrder) -> Bool {
        for total in n...(n + more) {
            let underUpper = upper.map { total < $0.integerDigits || (total == $0.integerDigits && hi != .above) } ?? true
            let overLower = lower.map { total > $0.integerDigits || (total == $0.integerDigits && lo != .below) } ?? true
            if underUpper && overLower { return true }
        }
        return false
    }

    /// Whether a number in its fraction with `digits` fraction digits written and `more` still
    /// allowed may be completed into the range (orders closed over the integer part).
    func reachable(fractionDigits digits: Int, more: Int, _ lo: DigitOrder, _ hi: DigitOrder) -> Bool {
        hi != .above && (lo == .above || (lo == .equal && (more > 0 || lower!.isZero(from: lower!.integerDigits + digits))))
    }

    /// Whether the number ends within the range, its orders closed over the digits written,
    /// `digits` of them after the integer part's.
    func admits(fractionDigits digits: Int, _ lo: DigitOrder, _ hi: DigitOrder) -> Bool {
        hi != .above && (lo == .above || (lo == .equal && lower!.isZero(from: lower!.integerDigits + digits)))
    }
}

/// A magnitude on the grid: at most `JSONMatcher.maxDigits` integer digits (no leading zero)
/// and exactly that many fraction digits.
struct DecimalEdge: Comparable, Sendable {
    let integerDigits: Int
    /// The integer digits, then the fraction's.
    let digits: [UInt8]

    static var gridDigits: Int { Int(JSONMatcher.maxDigits) }

    /// The smallest grid value above `v` (or equal to it, when inclusive); nil when past the grid.
    static func lower(_ v: ExactDecimal, inclusive: Bool) -> DecimalEdge? {
        let (t, exact) = v.truncated(toFraction: gridDigits)
        let e = exact && inclusive ? t : t.plusUnit()
        return e.integerDigits > gridDigits ? nil : e
    }

    /// The largest grid value below `v` (or equal to it, when inclusive); nil when below 0.
    static func upper(_ v: ExactDecimal, inclusive: Bool) -> DecimalEdge? {
        let (t, exact) = v.truncated(toFraction: gridDigits)
        return exact && !inclusive ? t.minusUnit() : t
    }

    /// The order of a number's digits that were equal so far, after its digit `d` at place `i`.
    func order(_ o: DigitOrder, after d: UInt8, at i: Int) -> DigitOrder {
        guard o == .equal else { return o }
        return d < digits[i] ? .below : d > digits[i] ? .above : .equal
    }

    /// The order of an integer part of `n` digits, from the order of its digits.
    func closeInteger(_ o: DigitOrder, digits n: Int) -> DigitOrder {
        n < integerDigits ? .below : n > integerDigits ? .above : o
    }

    func isZero(from i: Int) -> Bool { digits[i...].allSatisfy { $0 == 0 } }

    static func < (a: DecimalEdge, b: DecimalEdge) -> Bool {
        a.integerDigits != b.integerDigits ? a.integerDigits < b.integerDigits : a.digits.lexicographicallyPrecedes(b.digits)
    }

    func plusUnit() -> DecimalEdge {
        var d = digits
        var i = d.count - 1
        while i >= 0 && d[i] == 9 { d[i] = 0; i -= 1 }
        if i < 0 { return DecimalEdge(integerDigits: integerDigits + 1, digits: [1] + d) }
        d[i] += 1
        return DecimalEdge(integerDigits: integerDigits, digits: d)
    }

    /// nil below 0.
    func minusUnit() -> DecimalEdge? {
        var d = digits
        var i = d.count - 1
        while i >= 0 && d[i] == 0 { d[i] = 9; i -= 1 }
        guard i >= 0 else { return nil }
        d[i] -= 1
        return DecimalEdge(integerDigits: integerDigits, digits: d).trimmed()
    }

    /// Without a leading zero in the integer part.
    private func trimmed() -> DecimalEdge {
        let zeros = digits.prefix(integerDigits).prefix { $0 == 0 }.count
        return DecimalEdge(integerDigits: integerDigits - zeros, digits: Array(digits[zeros...]))
    }
}

extension DecimalEdge {
    fileprivate init(integer: [UInt8], fraction: [UInt8]) {
        let zeros = integer.prefix { $0 == 0 }.count
        self.init(integerDigits: integer.count - zeros, digits: Array(integer[zeros...]) + fraction)
    }
}

/// The exact decimal expansion of m · 2^e.
struct ExactDecimal {
    var integer: [UInt8]
    var fraction: [UInt8]

    /// A finite double as m · 2^e.
    private static func parts(_ d: Double) -> (UInt64, Int) {
        d.exponentBitPattern == 0
            ? (d.significandBitPattern, -1074)
            : (d.significandBitPattern | 1 << 52, Int(d.exponentBitPattern) - 1075)
    }

    init(magnitudeOf d: Double) {
        let (m, e) = Self.parts(d)
        self.init(m, exponent: e)
    }

    /// The midpoint of two finite doubles a ≤ b, both ≥ 0 (adjacent ones, in use).
    init(midpointOf a: Double, _ b: Double) {
        let (ma, ea) = Self.parts(a), (mb, eb) = Self.parts(b)
        let e = min(ea, eb)
        // (ma·2^ea + mb·2^eb) / 2, with both exponents within one of each other.
        self.init(ma << UInt64(ea - e) + mb << UInt64(eb - e), exponent: e - 1)
    }

    init(_ m: UInt64, exponent e: Int) {
        // Limbs of 9 decimal digits, least significant first.
        var limbs: [UInt64] = [m % 1_000_000_000, m / 1_000_000_000 % 1_000_000_000, m / 1_000_000_000_000_000_000]
        func multiply(by f: UInt64) {
            var carry: UInt64 = 0
            for i in limbs.indices {
                let p = limbs[i] * f + carry
                limbs[i] = p % 1_000_000_000
                carry = p / 1_000_000_000
            }
            while carry > 0 { limbs.append(carry % 1_000_000_000); carry /= 1_000_000_000 }
        }
        // m·2^e = m·5^-e / 10^-e for e < 0.
        var left = abs(e)
        let (chunk, chunkPower): (UInt64, Int) = e < 0 ? (1_220_703_125, 13) : (1 << 29, 29)
        while left >= chunkPower { multiply(by: chunk); left -= chunkPower }
        if left > 0 { multiply(by: e < 0 ? (0..<left).reduce(1) { r, _ in r * 5 } : 1 << UInt64(left)) }
        var digits: [UInt8] = []
        for limb in limbs.reversed() {
            var group = [UInt8](repeating: 0, count: 9), v = limb
            for i in stride(from: 8, through: 0, by: -1) { group[i] = UInt8(v % 10); v /= 10 }
            digits += group
        }
        let point = e < 0 ? -e : 0
        if digits.count <= point { digits = [UInt8](repeating: 0, count: point - digits.count + 1) + digits }
        integer = Array(digits[..<(digits.count - point)])
        fraction = Array(digits[(digits.count - point)...])
    }

    /// Cut after `places` fraction digits; whether nothing but zeros was cut.
    func truncated(toFraction places: Int) -> (DecimalEdge, exact: Bool) {
        let kept = Array(fraction.prefix(places)) + [UInt8](repeating: 0, count: max(0, places - fraction.count))
        return (DecimalEdge(integer: integer, fraction: kept), fraction.dropFirst(places).allSatisfy { $0 == 0 })
    }
}
