/// A deterministic automaton over the UTF-8 bytes of a string's content (the characters
/// after JSON escapes are decoded): the language of a `pattern`, a `format`, an `enum` of
/// strings or an object's property names. Every state can still reach acceptance (dead
/// states are pruned at construction), so a byte is allowed exactly when it has a transition.
/// State 0 is the start.
struct ByteDFA: Sendable {
    struct Edge: Sendable {
        var lo: UInt8
        var hi: UInt8
        var target: Int32
    }

    /// Edges of state s: edges[edgeStart[s]..<edgeStart[s + 1]], sorted by byte.
    private(set) var edges: [Edge]
    private(set) var edgeStart: [Int32]
    private(set) var accepting: [Bool]

    var stateCount: Int { accepting.count }

    /// The state after `byte`, or -1.
    @inline(__always)
    func step(_ state: Int32, _ byte: UInt8) -> Int32 {
        var i = Int(edgeStart[Int(state)])
        let end = Int(edgeStart[Int(state) + 1])
        while i < end {
            let e = edges[i]
            if byte < e.lo { return -1 }
            if byte <= e.hi { return e.target }
            i += 1
        }
        return -1
    }

    func isAccepting(_ state: Int32) -> Bool { accepting[Int(state)] }

    /// The states reachable from `state` by the UTF-8 of some scalar in lo...hi.
    func targets(from state: Int32, scalars lo: UInt32, _ hi: UInt32) -> [Int32] {
        var out: [Int32] = []
        func walk(_ s: Int32, _ seq: [ClosedRange<UInt8>], _ at: Int) {
            if at == seq.count {
                if !out.contains(s) { out.append(s) }
                return
            }
            for i in Int(edgeStart[Int(s)])..<Int(edgeStart[Int(s) + 1]) {
                let e = edges[i]
                if e.hi >= seq[at].lowerBound && e.lo <= seq[at].upperBound { walk(e.target, seq, at + 1) }
            }
        }
        for seq in utf8Sequences(lo, hi) { walk(state, seq, 0) }
        return out
    }

    /// Builds the DFA of `nfa` by subset construction, then drops the states that cannot reach
    /// acceptance. Throws when it would exceed `limit` states. Nil: the language is empty.
    static func determinize(_ nfa: NFA, limit: Int = 20_000) throws -> ByteDFA? {
        var index: [[Int32]: Int32] = [:]
        var sets: [[Int32]] = []
        var transitions: [[(lo: UInt8, hi: UInt8, target: Int32)]] = []
        var accepting: [Bool] = []
        func add(_ set: [Int32]) throws -> Int32 {
            if let i = index[set] { return i }
            guard sets.count < limit else { throw SchemaError.tooComplex("an automaton of more than \(limit) states") }
            let i = Int32(sets.count)
            index[set] = i
            sets.append(set)
            transitions.append([])
            accepting.append(set.contains(nfa.accept))
            return i
        }
        _ = try add(nfa.closure([nfa.start]))
        var next = 0
        while next < sets.count {
            let set = sets[next]
            // Elementary byte intervals: split every edge's range at every other edge's bounds.
            var bounds: Set<Int> = []
            for s in set { for e in nfa.edges[Int(s)] { bounds.insert(Int(e.lo)); bounds.insert(Int(e.hi) + 1) } }
            let cuts = bounds.sorted()
            var row: [(lo: UInt8, hi: UInt8, target: Int32)] = []
            for k in 0..<max(cuts.count - 1, 0) {
                let lo = cuts[k], hi = cuts[k + 1] - 1
                var moved: [Int32] = []
                for s in set {
                    for e in nfa.edges[Int(s)] where Int(e.lo) <= lo && hi <= Int(e.hi) { moved.append(e.target) }
                }
                guard !moved.isEmpty else { continue }
                let target = try add(nfa.closure(moved))
                if let last = row.last, last.target == target, Int(last.hi) + 1 == lo {
                    row[row.count - 1].hi = UInt8(hi)
                } else {
                    row.append((UInt8(lo), UInt8(hi), target))
                }
            }
            transitions[next] = row
            next += 1
        }
        return prune(transitions, accepting)
    }

    /// Keeps the states reachable from 0 that can reach acceptance, renumbered in order.
    static func prune(_ transitions: [[(lo: UInt8, hi: UInt8, target: Int32)]], _ accepting: [Bool]) -> ByteDFA? {
        let n = accepting.count
        var live = accepting
        var changed = true
        while changed {
            changed = false
            for s in 0..<n where !live[s] && transitions[s].contains(where: { live[Int($0.target)] }) {
                live[s] = true
                changed = true
            }
        }
        guard n > 0, live[0] else { return nil }
        var number = [Int32](repeating: -1, count: n)
        var order: [Int] = [0]
        number[0] = 0
        var i = 0
        while i < order.count {
            for e in transitions[order[i]] where live[Int(e.target)] && number[Int(e.target)] < 0 {
                number[Int(e.target)] = Int32(order.count)
                order.append(Int(e.target))
            }
            i += 1
        }
        var edges: [Edge] = []
        var starts: [Int32] = []
        for s in order {
            starts.append(Int32(edges.count))
            for e in transitions[s] where live[Int(e.target)] {
                edges.append(Edge(lo: e.lo, hi: e.hi, target: number[Int(e.target)]))
            }
        }
        starts.append(Int32(edges.count))
        return ByteDFA(edges: edges, edgeStart: starts, accepting: order.map { accepting[$0] })
    }

    /// The same language restricted to strings of `min...max` scalars (max nil: no bound):
    /// the product with a counter of scalars (a byte that is not a continuation byte starts one).
    func limitingLength(min: Int, max: Int?) throws -> ByteDFA? {
        let cap = max ?? min
        guard stateCount * (cap + 1) <= 200_000 else {
            throw SchemaError.tooComplex("a pattern, format or enum with a length bound of \(cap)")
        }
        let width = cap + 1
        var transitions: [[(lo: UInt8, hi: UInt8, target: Int32)]] = []
        var accepting: [Bool] = []
        for s in 0..<stateCount {
            for c in 0...cap {
                var row: [(lo: UInt8, hi: UInt8, target: Int32)] = []
                for i in Int(edgeStart[s])..<Int(edgeStart[s + 1]) {
                    let e = edges[i]
                    // Split the edge into continuation bytes (0x80...0xBF) and the others.
                    for (lo, hi, starts) in [
                        (e.lo, Swift.min(e.hi, 0x7F), true), (Swift.max(e.lo, 0x80), Swift.min(e.hi, 0xBF), false),
                        (Swift.max(e.lo, 0xC0), e.hi, true),
                    ] where lo <= hi {
                        var c2 = c
                        if starts {
                            if let max, c + 1 > max { continue }
                            c2 = Swift.min(c + 1, cap)
                        }
                        row.append((lo, hi, Int32(Int(e.target) * width + c2)))
                    }
                }
                transitions.append(row)
                accepting.append(self.accepting[s] && c >= min)
            }
        }
        return Self.prune(transitions, accepting)
    }
}

/// A nondeterministic automaton over bytes (Thompson's construction), the step before `ByteDFA`.
struct NFA {
    struct Edge {
        var lo: UInt8
        var hi: UInt8
        var target: Int32
    }

    var edges: [[Edge]] = []
    var epsilons: [[Int32]] = []
    var start: Int32 = 0
    var accept: Int32 = 0

    static let stateLimit = 100_000

    mutating func state() throws -> Int32 {
        guard edges.count < Self.stateLimit else { throw SchemaError.tooComplex("an automaton of more than \(Self.stateLimit) states") }
        edges.append([])
        epsilons.append([])
        return Int32(edges.count - 1)
    }

    mutating func edge(_ from: Int32, _ lo: UInt8, _ hi: UInt8, _ to: Int32) { edges[Int(from)].append(Edge(lo: lo, hi: hi, target: to)) }
    mutating func epsilon(_ from: Int32, _ to: Int32) { epsilons[Int(from)].append(to) }

    /// A path from `from` to `to` over the UTF-8 of any scalar of `set`.
    mutating func scalars(_ set: ScalarSet, from: Int32, to: Int32) throws {
        for r in set.ranges {
            for seq in utf8Sequences(r.lowerBound, r.upperBound) {
                var at = from
                for (i, bytes) in seq.enumerated() {
                    let next = i == seq.count - 1 ? to : try state()
                    edge(at, bytes.lowerBound, bytes.upperBound, next)
                    at = next
                }
            }
        }
    }

    /// A path from `from` to `to` spelling `bytes`.
    mutating func literal(_ bytes: [UInt8], from: Int32, to: Int32) throws {
        guard !bytes.isEmpty else { return epsilon(from, to) }
        var at = from
        for (i, b) in bytes.enumerated() {
            let next = i == bytes.count - 1 ? to : try state()
            edge(at, b, b, next)
            at = next
        }
    }

    /// The states reachable from `states` by epsilon moves, sorted.
    func closure(_ states: [Int32]) -> [Int32] {
        var seen = Set(states)
        var stack = states
        while let s = stack.popLast() {
            for t in epsilons[Int(s)] where seen.insert(t).inserted { stack.append(t) }
        }
        return seen.sorted()
    }
}

extension ByteDFA {
    /// The trie of a set of distinct strings, and for each state the index of the string that
    /// ends there (-1 where none does).
    static func trie(_ values: [[UInt8]]) -> (dfa: ByteDFA, value: [Int32]) {
        var children: [[(byte: UInt8, target: Int32)]] = [[]]
        var value: [Int32] = [-1]
        for (k, v) in values.enumerated() {
            var s = 0
            for b in v {
                if let t = children[s].first(where: { $0.byte == b }) {
                    s = Int(t.target)
                } else {
                    children.append([])
                    value.append(-1)
                    children[s].append((b, Int32(children.count - 1)))
                    s = children.count - 1
                }
            }
            value[s] = Int32(k)
        }
        var edges: [Edge] = []
        var starts: [Int32] = []
        for row in children {
            starts.append(Int32(edges.count))
            for c in row.sorted(by: { $0.byte < $1.byte }) { edges.append(Edge(lo: c.byte, hi: c.byte, target: c.target)) }
        }
        starts.append(Int32(edges.count))
        return (ByteDFA(edges: edges, edgeStart: starts, accepting: value.map { $0 >= 0 }), value)
    }
}
