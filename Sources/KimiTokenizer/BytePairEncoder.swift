/// tiktoken's byte-pair merge: within one pre-tokenised piece, repeatedly merge the adjacent pair
/// whose concatenation has the lowest rank (the leftmost on ties) until no pair is a token.
/// Short pieces use tiktoken's own array scan; long ones a heap with the same order, so a
/// 25 000-byte run costs n log n, not n².
struct BytePairEncoder {
    let ranks: RankTable

    static let noRank = UInt32.max

    /// Appends the tokens of `piece` (bytes p ..< p + n, n ≥ 1) to `out`.
    func encode(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        if let rank = ranks.lookup(p, n) {
            out.append(Int(rank))
            return
        }
        if n <= 256 { mergeByScan(p, n, into: &out) } else { mergeByHeap(p, n, into: &out) }
    }

    private func mergeByScan(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        // parts[i]: start offset of part i and the rank of merging part i with part i + 1.
        var starts = [Int](), pairRanks = [UInt32]()
        starts.reserveCapacity(n + 1)
        pairRanks.reserveCapacity(n + 1)
        for i in 0..<n {
            starts.append(i)
            pairRanks.append(i + 2 <= n ? ranks.lookup(p + i, 2) ?? Self.noRank : Self.noRank)
        }
        starts.append(n)
        pairRanks.append(Self.noRank)
        @inline(__always) func rank(_ i: Int) -> UInt32 {
            guard i + 2 < starts.count else { return Self.noRank }
            return ranks.lookup(p + starts[i], starts[i + 2] - starts[i]) ?? Self.noRank
        }
        while true {
            var best = Self.noRank, at = -1
            for i in 0..<pairRanks.count - 1 where pairRanks[i] < best {
                best = pairRanks[i]
                at = i
            }
            if at < 0 { break }
            starts.remove(at: at + 1)
            pairRanks.remove(at: at + 1)
            pairRanks[at] = rank(at)
            if at > 0 { pairRanks[at - 1] = rank(at - 1) }
        }
        for i in 0..<starts.count - 1 {
            out.append(Int(ranks.lookup(p + starts[i], starts[i + 1] - starts[i])!))
        }
    }

    /// The same merge order with a binary heap of (rank, start) over a linked list of parts.
    private func mergeByHeap(_ p: UnsafePointer<UInt8>, _ n: Int, into out: inout [Int]) {
        var next = [Int](1...n), prev = [Int](-1..<n - 1)  // by part start offset; n = end
        var alive = [Bool](repeating: true, count: n)
        var heap = Heap()
        @inline(__always) func pairRank(_ i: Int) -> UInt32 {
            let j = next[i]
            guard j < n else { return Self.noRank }
            return ranks.lookup(p + i, next[j] - i) ?? Self.noRank
        }
        var current = [UInt32](repeating: Self.noRank, count: n)
        for i in 0..<n {
            current[i] = pairRank(i)
            if current[i] != Self.noRank { heap.push(current[i], i) }
        }
        while let (rank, i) = heap.pop() {
            guard alive[i], current[i] == rank else { continue }  // stale entry
            let j = next[i]
            alive[j] = false
            next[i] = next[j]
            if next[j] < n { prev[next[j]] = i }
            current[i] = pairRank(i)
            if current[i] != Self.noRank { heap.push(current[i], i) }
            let h = prev[i]
            if h >= 0 {
                current[h] = pairRank(h)
                if current[h] != Self.noRank { heap.push(current[h], h) }
            }
        }
        var i = 0
        while i < n {
            out.append(Int(ranks.lookup(p + i, next[i] - i)!))
            i = next[i]
        }
    }
}

/// A binary min-heap of (rank, start) pairs: the lowest rank first, the leftmost on ties.
struct Heap {
    private var items: [(UInt32, Int)] = []

    @inline(__always) private static func less(_ a: (UInt32, Int), _ b: (UInt32, Int)) -> Bool {
        a.0 < b.0 || (a.0 == b.0 && a.1 < b.1)
    }

    mutating func push(_ rank: UInt32, _ start: Int) {
        items.append((rank, start))
        var i = items.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(items[i], items[parent]) else { break }
            items.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (UInt32, Int)? {
        guard let top = items.first else { return nil }
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < items.count && Self.less(items[l], items[m]) { m = l }
                if r < items.count && Self.less(items[r], items[m]) { m = r }
                if m == i { break }
                items.swapAt(i, m)
                i = m
            }
        }
        return top
    }
}
