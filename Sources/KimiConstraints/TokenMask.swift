/// A set of token ids as a bitset over the vocabulary.
public struct TokenMask: Equatable, Sendable {
    public private(set) var words: [UInt64]
    public let count: Int

    public init(count: Int) {
        self.count = count
        words = [UInt64](repeating: 0, count: (count + 63) / 64)
    }

    @inline(__always) public func contains(_ id: Int) -> Bool {
        id >= 0 && id < count && words[id >> 6] & (1 << UInt64(id & 63)) != 0
    }

    @inline(__always) public mutating func insert(_ id: Int) { words[id >> 6] |= 1 << UInt64(id & 63) }

    public mutating func formUnion(_ other: TokenMask) {
        for i in words.indices { words[i] |= other.words[i] }
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    /// The ids in the set, ascending.
    public var ids: [Int] {
        var out: [Int] = []
        for (i, w) in words.enumerated() {
            var w = w
            while w != 0 {
                out.append(i << 6 | w.trailingZeroBitCount)
                w &= w - 1
            }
        }
        return out
    }
}
