/// One kind of JSON value a compiled schema admits at some position. A node is a union of
/// alternatives or a leaf; `CompiledSchema.leaves` flattens unions.
enum SchemaNode: Sendable {
    /// Any of the alternatives (anyOf, oneOf, a list of types, an enum of several kinds).
    case union([Int32])
    /// Exactly this JSON text (true, false, null, and enum or const values other than strings).
    case literal([UInt8])
    case integer(IntegerRule)
    case number(NumberRule)
    case string(StringRule)
    case object(ObjectRule)
    case array(ArrayRule)
}

/// An integer within lo...hi; without bounds, at most `JSONMatcher.maxDigits` digits.
struct IntegerRule: Sendable {
    var lo: Int64?
    var hi: Int64?
    var bounded: Bool { lo != nil || hi != nil }
}

/// A number within the bounds, each a double compared with the double of the number's text
/// (exclusive or not); a bounded number is written without an exponent.
struct NumberRule: Sendable {
    var lo: Double?
    var loExclusive = false
    var hi: Double?
    var hiExclusive = false
    /// The bounds as conditions on the digits (set by the compiler when there is a bound).
    var digits: NumberBounds?
    var bounded: Bool { lo != nil || hi != nil }

    func admits(_ v: Double) -> Bool {
        if let lo, loExclusive ? !(v > lo) : !(v >= lo) { return false }
        if let hi, hiExclusive ? !(v < hi) : !(v <= hi) { return false }
        return true
    }
}

/// A string whose characters (escapes decoded) are in `dfa`'s language, which then also holds
/// the length bounds; without a DFA, any characters, min...max of them.
struct StringRule: Sendable {
    var dfa: Int32?
    var minLength = 0
    var maxLength: Int?
}

/// An object: the declared properties (in any order, each at most once), the required ones,
/// and what any other key's value must be (nil: no other key). A class, so that the matcher's
/// per-byte look at it copies one reference, not its arrays.
final class ObjectRule: Sendable {
    /// Each property's value node; -1: the property may not appear.
    let values: [Int32]
    let required: Bits128
    let additional: Int32?
    /// The trie of the names' UTF-8, which property ends at each trie state, and the set of
    /// properties whose name continues through it.
    let keys: Int32
    let nameAt: [Int32]
    let below: [Bits128]
    /// The properties that may appear.
    let allowed: Bits128

    init(values: [Int32], required: Bits128, additional: Int32?, keys: Int32, nameAt: [Int32], below: [Bits128]) {
        self.values = values
        self.required = required
        self.additional = additional
        self.keys = keys
        self.nameAt = nameAt
        self.below = below
        var allowed = Bits128()
        for (k, v) in values.enumerated() where v >= 0 { allowed.insert(k) }
        self.allowed = allowed
    }

    /// The same object with other values and other-key schema.
    func with(values: [Int32], additional: Int32?) -> ObjectRule {
        ObjectRule(values: values, required: required, additional: additional, keys: keys, nameAt: nameAt, below: below)
    }
}

/// An array: items by position (prefixItems), then `items` for the rest (nil: no more).
struct ArrayRule: Sendable {
    var prefix: [Int32]
    var items: Int32?
    var minItems: Int
    var maxItems: Int?

    func item(_ i: Int) -> Int32? { i < prefix.count ? prefix[i] : items }
}

/// A set of up to 128 property indices.
struct Bits128: Equatable, Hashable, Sendable {
    var low: UInt64 = 0
    var high: UInt64 = 0

    static let capacity = 128

    func contains(_ i: Int) -> Bool { i < 64 ? low & (1 << UInt64(i)) != 0 : high & (1 << UInt64(i - 64)) != 0 }
    mutating func insert(_ i: Int) { if i < 64 { low |= 1 << UInt64(i) } else { high |= 1 << UInt64(i - 64) } }
    func union(_ o: Bits128) -> Bits128 { Bits128(low: low | o.low, high: high | o.high) }
    func subtracting(_ o: Bits128) -> Bits128 { Bits128(low: low & ~o.low, high: high & ~o.high) }
    func intersection(_ o: Bits128) -> Bits128 { Bits128(low: low & o.low, high: high & o.high) }
    func isSubset(of o: Bits128) -> Bool { subtracting(o).isEmpty }
    var isEmpty: Bool { low == 0 && high == 0 }
}
