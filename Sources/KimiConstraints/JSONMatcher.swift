/// Where a JSON document generated against a compiled schema stands, advanced byte by byte: a
/// pushdown automaton whose stack holds one frame per open value. Where the schema allows
/// several alternatives that the bytes so far do not tell apart (anyOf), the state holds one
/// stack per live alternative. A byte is allowed exactly when some stack survives it, and
/// every surviving stack can still be completed to a valid document (unsatisfiable branches
/// are pruned at compile time; partial characters and escapes are checked for a completion).
struct MatcherState: Hashable {
    var frames: [Frame] = []
    /// The end index (into `frames`) of each stack.
    var ends: [Int32] = []

    mutating func removeAll() {
        frames.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}

struct Frame: Hashable {
    enum Kind: UInt8 { case document, value, literal, number, string, key, object, array }

    var kind: Kind
    /// Per kind: document 0 = value open, 1 = done; string/key lexer state; number state;
    /// object and array: where between members.
    var phase: UInt8 = 0
    /// Whitespace bytes in the current run.
    var ws: UInt8 = 0
    /// The schema node (for a key: its object's node).
    var node: Int32
    /// literal: bytes matched; string: characters; array: items; number: digits.
    var count: Int32 = 0
    /// string/key: the content automaton's state (a key off its object's names: -1).
    var dfa: Int32 = 0
    /// string/key: escape digits or the UTF-8 continuation expected; number: bit 0 negative,
    /// bit 1 the magnitude overflowed 64 bits (integer) or its integer part 2^53 (bounded
    /// number), bits 2-5 a bounded number's `DigitOrder`s against its range's edges;
    /// object: the property whose value is open (-1: an undeclared key).
    var aux: Int32 = 0
    /// object: the properties given; key: its object's, copied when the key opens.
    var seen = Bits128()
    /// integer: magnitude so far; bounded number: its integer part (to 2^53); string/key: a
    /// high surrogate awaiting its pair.
    var int: Int64 = 0
    /// bounded number: digits after the point.
    var fraction: Int32 = 0

    init(_ kind: Kind, node: Int32) {
        self.kind = kind
        self.node = node
    }
}

struct JSONMatcher {
    let schema: CompiledSchema

    /// Whitespace bytes allowed in a row between tokens of the document.
    static let maxWhitespace: UInt8 = 64
    /// Digits of an unbounded number's integer part, fraction, exponent.
    static let maxDigits: Int32 = 40
    static let maxExponentDigits: Int32 = 3
    /// Alternative stacks kept at most (more are dropped: stricter, never invalid).
    static let maxStacks = 32

    init(_ schema: CompiledSchema) { self.schema = schema }

    var initial: MatcherState {
        var s = MatcherState()
        s.frames = [Frame(.document, node: -1), Frame(.value, node: schema.root)]
        s.ends = [2]
        return s
    }

    /// The state with what cannot change any later decision cleared (the character count of a
    /// string without length bounds), so that equal keys mean equal masks.
    func normalized(_ s: MatcherState) -> MatcherState {
        var s = s
        for i in s.frames.indices where s.frames[i].kind == .string {
            if case let .string(r) = schema.nodes[Int(s.frames[i].node)], r.dfa == nil, r.minLength == 0, r.maxLength == nil {
                s.frames[i].count = 0
            }
        }
        return s
    }

    /// Inside a string between characters, what decides the "plain" tokens (complete UTF-8
    /// without a quote, a backslash or a control character), which cannot leave the string:
    /// only their number of characters, or the string's automaton. nil elsewhere.
    enum PlainContent {
        case free(maxCharacters: Int?)
        case automaton(Int32, state: Int32)
    }

    /// Each stack of `s` as a state of its own.
    func stacks(_ s: MatcherState) -> [MatcherState] {
        guard s.ends.count > 1 else { return [s] }
        var out: [MatcherState] = []
        var start = 0
        for e in s.ends {
            out.append(MatcherState(frames: Array(s.frames[start..<Int(e)]), ends: [e - Int32(start)]))
            start = Int(e)
        }
        return out
    }

    /// Whether a one-stack state is inside a string or key, between characters.
    func isBetweenCharacters(_ s: MatcherState) -> Bool {
        guard let top = s.frames.last else { return false }
        return (top.kind == .string || top.kind == .key) && top.phase == 0
    }

    func plainContent(_ s: MatcherState) -> PlainContent? {
        guard s.ends.count == 1, let top = s.frames.last, top.phase == 0 else { return nil }
        switch (top.kind, schema.nodes[Int(top.node)]) {
        case let (.string, .string(rule)):
            guard let d = rule.dfa else { return .free(maxCharacters: rule.maxLength.map { $0 - Int(top.count) }) }
            return .automaton(d, state: top.dfa)
        case let (.key, .object(rule)) where rule.additional != nil:
            return .free(maxCharacters: nil)
        default:
            return nil
        }
    }

    /// Whether the document may end here.
    func canEnd(_ s: MatcherState) -> Bool {
        var start = 0
        for e in s.ends {
            let e = Int(e)
            if e - start == 1 && s.frames[start].phase == 1 { return true }
            if e - start == 2 && s.frames[start + 1].kind == .number && numberCanEnd(s.frames[start + 1]) { return true }
            start = e
        }
        return false
    }

    /// Advances every stack of `from` by `b` into `out`; false when none survives.
    func step(_ from: MatcherState, _ b: UInt8, into out: inout MatcherState) -> Bool {
        if from.ends.count == 1 && out.frames.count == from.frames.count {
            // One stack into a buffer of its size (the common case in a trie walk): copied in place.
            out.frames.withUnsafeMutableBufferPointer { dst in
                from.frames.withUnsafeBufferPointer { src in dst.baseAddress!.update(from: src.baseAddress!, count: src.count) }
            }
            if out.ends.count == 1 && ordinaryCharacter(&out.frames[out.frames.count - 1], b) { return true }
            out.ends.removeAll(keepingCapacity: true)
            run(b, &out, start: 0)
            return !out.ends.isEmpty
        }
        out.removeAll()
        var start = 0
        for e in from.ends {
            let at = out.frames.count
            out.frames.append(contentsOf: from.frames[start..<Int(e)])
            run(b, &out, start: at)
            start = Int(e)
        }
        if out.ends.count > 1 { deduplicate(&out) }
        return !out.ends.isEmpty
    }

    /// Advances over `bytes`; nil at the first byte no stack survives.
    func advance(_ state: MatcherState, _ bytes: some Sequence<UInt8>) -> MatcherState? {
        var a = state, b = MatcherState()
        for byte in bytes {
            guard step(a, byte, into: &b) else { return nil }
            swap(&a, &b)
        }
        return a
    }

    private func deduplicate(_ s: inout MatcherState) {
        var stacks: [ArraySlice<Frame>] = []
        var start = 0
        for e in s.ends {
            let stack = s.frames[start..<Int(e)]
            if !stacks.contains(where: { $0.elementsEqual(stack) }) && stacks.count < Self.maxStacks { stacks.append(stack) }
            start = Int(e)
        }
        guard stacks.count < s.ends.count else { return }
        var frames: [Frame] = []
        var ends: [Int32] = []
        for stack in stacks {
            frames += stack
            ends.append(Int32(frames.count))
        }
        s.frames = frames
        s.ends = ends
    }

    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }

    /// Counts a whitespace byte into a run: at most `maxWhitespace` bytes and one newline per
    /// run (a line break and indentation, as pretty-printers write), so that a model cannot
    /// pad a document with blank lines. Bit 7 of `ws` records the newline.
    @inline(__always) static func takeWhitespace(_ ws: inout UInt8, _ b: UInt8) -> Bool {
        guard ws & 0x7F < maxWhitespace else { return false }
        if b == 0x0A {
            if ws & 0x80 != 0 { return false }
            ws |= 0x80
        }
        ws += 1
        return true
    }

    // MARK: - One byte on one stack

    /// Applies `b` to the last stack of `out` (frames from `start`), then records the stack's
    /// end, or removes it when `b` is not allowed.
    private func run(_ b: UInt8, _ out: inout MatcherState, start: Int) {
        func keep() { out.ends.append(Int32(out.frames.count)) }
        func drop() { out.frames.removeSubrange(start...) }
        while true {
            let t = out.frames.count - 1
            var f = out.frames[t]
            // An object or array between its members (past its opening bracket) takes whitespace.
            if (f.kind == .object || f.kind == .array) && f.phase != 1 && Self.isWhitespace(b) {
                guard Self.takeWhitespace(&out.frames[t].ws, b) else { return drop() }
                return keep()
            }
            switch f.kind {
            case .document:
                guard f.phase == 1, Self.isWhitespace(b), Self.takeWhitespace(&out.frames[t].ws, b) else { return drop() }
                return keep()

            case .value:
                if Self.isWhitespace(b) {
                    guard Self.takeWhitespace(&out.frames[t].ws, b) else { return drop() }
                    return keep()
                }
                let leaves = schema.leaves[Int(f.node)]
                var only: Int32 = -1, matching = 0
                for leaf in leaves where canStart(leaf, b) {
                    only = leaf
                    matching += 1
                }
                if matching == 0 { return drop() }
                if matching == 1 {
                    out.frames[t] = leafFrame(only)
                    continue
                }
                let candidates = leaves.filter { canStart($0, b) }
                let saved = Array(out.frames[start...])
                out.frames.removeSubrange(start...)
                for c in candidates {
                    let at = out.frames.count
                    out.frames += saved
                    out.frames[out.frames.count - 1] = leafFrame(c)
                    run(b, &out, start: at)
                }
                return

            case .literal:
                guard case let .literal(text) = schema.nodes[Int(f.node)], Int(f.count) < text.count, text[Int(f.count)] == b else {
                    return drop()
                }
                f.count += 1
                if Int(f.count) == text.count {
                    out.frames.removeLast()
                    valueDone(&out)
                } else {
                    out.frames[t] = f
                }
                return keep()

            case .number:
                switch number(&f, b) {
                case .consumed:
                    out.frames[t] = f
                    return keep()
                case .rejected:
                    return drop()
                case .ended:
                    out.frames.removeLast()
                    valueDone(&out)
                    continue
                }

            case .string, .key:
                switch string(&f, b) {
                case .consumed:
                    out.frames[t] = f
                    return keep()
                case .rejected:
                    return drop()
                case .ended:
                    out.frames.removeLast()
                    if f.kind == .key {
                        out.frames[t - 1].aux = f.aux
                        out.frames[t - 1].phase = 2
                        out.frames[t - 1].ws = 0
                    } else {
                        valueDone(&out)
                    }
                    return keep()
                }

            case .object:
                guard case let .object(rule) = schema.nodes[Int(f.node)] else { return drop() }
                switch (f.phase, b) {
                case (1, UInt8(ascii: "{")):
                    f.phase = 0
                case (0, UInt8(ascii: "\"")), (5, UInt8(ascii: "\"")):
                    guard canStartKey(rule, f.seen) else { return drop() }
                    f.phase = 3
                    out.frames[t] = f
                    var key = Frame(.key, node: f.node)
                    key.aux = -1
                    key.seen = f.seen
                    out.frames.append(key)
                    return keep()
                case (2, UInt8(ascii: ":")):
                    f.phase = 3
                    f.ws = 0
                    let value = f.aux >= 0 ? rule.values[Int(f.aux)] : rule.additional!
                    if f.aux >= 0 { f.seen.insert(Int(f.aux)) }
                    out.frames[t] = f
                    out.frames.append(Frame(.value, node: value))
                    return keep()
                case (4, UInt8(ascii: ",")):
                    guard canStartKey(rule, f.seen) else { return drop() }
                    f.phase = 5
                case (0, UInt8(ascii: "}")), (4, UInt8(ascii: "}")):
                    guard rule.required.isSubset(of: f.seen) else { return drop() }
                    out.frames.removeLast()
                    valueDone(&out)
                    return keep()
                default:
                    return drop()
                }
                f.ws = 0
                out.frames[t] = f
                return keep()

            case .array:
                guard case let .array(rule) = schema.nodes[Int(f.node)] else { return drop() }
                switch (f.phase, b) {
                case (1, UInt8(ascii: "[")):
                    f.phase = 0
                    f.ws = 0
                    out.frames[t] = f
                    return keep()
                case (0, UInt8(ascii: "]")), (4, UInt8(ascii: "]")):
                    guard Int(f.count) >= rule.minItems else { return drop() }
                    out.frames.removeLast()
                    valueDone(&out)
                    return keep()
                case (4, UInt8(ascii: ",")):
                    guard rule.maxItems.map({ Int(f.count) < $0 }) ?? true, let item = rule.item(Int(f.count)) else { return drop() }
                    f.phase = 3
                    f.ws = 0
                    out.frames[t] = f
                    out.frames.append(Frame(.value, node: item))
                    return keep()
                case (0, _):
                    // The first item: a value frame, then this byte again.
                    guard rule.maxItems.map({ $0 > 0 }) ?? true, let item = rule.item(0) else { return drop() }
                    f.phase = 3
                    f.ws = 0
                    out.frames[t] = f
                    out.frames.append(Frame(.value, node: item))
                    continue
                default:
                    return drop()
                }
            }
        }
    }

    /// The frame under a finished value takes note: a member or item is complete.
    private func valueDone(_ out: inout MatcherState) {
        let t = out.frames.count - 1
        switch out.frames[t].kind {
        case .document: out.frames[t].phase = 1
        case .array: out.frames[t].count += 1; out.frames[t].phase = 4
        default: out.frames[t].phase = 4
        }
        out.frames[t].ws = 0
    }

    private func canStart(_ leaf: Int32, _ b: UInt8) -> Bool {
        switch schema.nodes[Int(leaf)] {
        case let .literal(text): return text.first == b
        case .integer, .number: return b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39)
        case .string: return b == UInt8(ascii: "\"")
        case .object: return b == UInt8(ascii: "{")
        case .array: return b == UInt8(ascii: "[")
        case .union: return false
        }
    }

    /// A leaf's frame before its first byte.
    private func leafFrame(_ leaf: Int32) -> Frame {
        switch schema.nodes[Int(leaf)] {
        case .literal: return Frame(.literal, node: leaf)
        case .integer, .number: return Frame(.number, node: leaf)
        case .string:
            var f = Frame(.string, node: leaf)
            f.phase = 13  // before the opening quote
            return f
        case .object:
            var f = Frame(.object, node: leaf)
            f.phase = 1
            return f
        case .array:
            var f = Frame(.array, node: leaf)
            f.phase = 1
            return f
        case .union: return Frame(.value, node: leaf)
        }
    }

    // MARK: - Objects

    private func canStartKey(_ rule: ObjectRule, _ seen: Bits128) -> Bool {
        rule.additional != nil || keyLive(rule, 0, seen)
    }

    /// Whether trie state `s` leads to a declared name not yet given whose value is allowed.
    private func keyLive(_ rule: ObjectRule, _ s: Int32, _ seen: Bits128) -> Bool {
        !rule.below[Int(s)].subtracting(seen).intersection(rule.allowed).isEmpty
    }

    // MARK: - Numbers

    enum Outcome { case consumed, rejected, ended }

    func numberCanEnd(_ f: Frame) -> Bool {
        guard f.phase == 2 || f.phase == 3 || f.phase == 5 || f.phase == 8 else { return false }
        let negative = f.aux & 1 != 0, overflow = f.aux & 2 != 0
        switch schema.nodes[Int(f.node)] {
        case let .integer(rule):
            guard rule.bounded else { return true }
            if overflow { return negative ? rule.lo == nil : rule.hi == nil }
            let v = negative ? -f.int : f.int
            return (rule.lo.map { v >= $0 } ?? true) && (rule.hi.map { v <= $0 } ?? true)
        case let .number(rule):
            guard let bounds = rule.digits else { return true }
            guard let range = negative ? bounds.negative : bounds.positive else { return false }
            if f.phase == 5 {
                let (lo, hi) = Self.orders(f)
                return range.admits(fractionDigits: Int(f.fraction), lo, hi)
            }
            // An integer text is read exactly, not rounded: above 2^53 a fraction must follow.
            guard !overflow else { return false }
            let (lo, hi) = Self.closedOrders(f, range)
            return range.admits(fractionDigits: 0, lo, hi)
        default: return false
        }
    }

    /// A bounded number's digit orders against its range's lower and upper edge (aux bits 2-5).
    static func orders(_ f: Frame) -> (DigitOrder, DigitOrder) {
        (DigitOrder(rawValue: f.aux >> 2 & 3)!, DigitOrder(rawValue: f.aux >> 4 & 3)!)
    }

    static func setOrders(_ f: inout Frame, _ o: (DigitOrder, DigitOrder)) {
        f.aux = f.aux & 3 | o.0.rawValue << 2 | o.1.rawValue << 4
    }

    /// The orders of the integer part written so far, taken as complete.
    static func closedOrders(_ f: Frame, _ range: MagnitudeRange) -> (DigitOrder, DigitOrder) {
        let n = f.phase == 2 ? 0 : Int(f.count)
        let (lo, hi) = orders(f)
        return (range.lower.map { $0.closeInteger(lo, digits: n) } ?? lo, range.upper.map { $0.closeInteger(hi, digits: n) } ?? hi)
    }

    /// Number phases: 0 start, 1 after '-', 2 a leading 0, 3 integer digits, 4 after '.',
    /// 5 fraction digits, 6 after 'e', 7 after the exponent's sign, 8 exponent digits.
    private func number(_ f: inout Frame, _ b: UInt8) -> Outcome {
        let isDigit = b >= 0x30 && b <= 0x39
        let d = Int64(b) - 0x30
        var integerRule: IntegerRule?
        var bounds: NumberBounds?
        switch schema.nodes[Int(f.node)] {
        case let .integer(r): integerRule = r
        case let .number(r): bounds = r.digits
        default: return .rejected
        }
        let isInteger = integerRule != nil
        let bounded = integerRule?.bounded ?? (bounds != nil)
        switch (f.phase, b) {
        case (0, UInt8(ascii: "-")):
            f.aux = 1
            f.phase = 1
            if let r = integerRule, let lo = r.lo, lo > 0 { return .rejected }
            if let bounds {
                guard let range = bounds.negative else { return .rejected }
                Self.setOrders(&f, range.initialOrders)
            }
            return .consumed
        case (0, _) where isDigit, (1, _) where isDigit, (3, _) where isDigit, (4, _) where isDigit, (5, _) where isDigit:
            if f.phase == 0, let bounds {
                guard let range = bounds.positive else { return .rejected }
                Self.setOrders(&f, range.initialOrders)
            }
            if f.phase == 0 || f.phase == 1 {
                f.phase = d == 0 ? 2 : 3
                f.count = 0
            } else if f.phase == 4 {
                f.phase = 5
                f.count = 0
            }
            guard f.count < Self.maxDigits else { return .rejected }
            f.count += 1
            if f.phase == 5 { f.fraction += 1 }
            guard bounded else { return .consumed }
            if f.phase != 5 {
                let limit: Int64 = isInteger ? Int64.max : 1 << 53
                let (m, o1) = f.int.multipliedReportingOverflow(by: 10)
                let (v, o2) = m.addingReportingOverflow(d)
                if o1 || o2 || v > limit { f.aux |= 2 } else { f.int = v }
            }
            if let integerRule { return integerFeasible(f, integerRule) ? .consumed : .rejected }
            return boundedDigit(&f, UInt8(d), bounds!) ? .consumed : .rejected
        case (2, UInt8(ascii: ".")), (3, UInt8(ascii: ".")):
            guard !isInteger else { return .rejected }
            guard let bounds else {
                f.phase = 4
                return .consumed
            }
            let range = (f.aux & 1 != 0 ? bounds.negative : bounds.positive)!
            let (lo, hi) = Self.closedOrders(f, range)
            Self.setOrders(&f, (lo, hi))
            f.phase = 4
            return range.reachable(fractionDigits: 0, more: Int(Self.maxDigits), lo, hi) ? .consumed : .rejected
        case (2, UInt8(ascii: "e")), (3, UInt8(ascii: "e")), (5, UInt8(ascii: "e")),
            (2, UInt8(ascii: "E")), (3, UInt8(ascii: "E")), (5, UInt8(ascii: "E")):
            guard !isInteger && !bounded else { return .rejected }
            f.phase = 6
            f.count = 0
            return .consumed
        case (6, UInt8(ascii: "+")), (6, UInt8(ascii: "-")):
            f.phase = 7
            return .consumed
        case (6, _) where isDigit, (7, _) where isDigit, (8, _) where isDigit:
            guard f.count < Self.maxExponentDigits else { return .rejected }
            f.phase = 8
            f.count += 1
            return .consumed
        default:
            return numberCanEnd(f) ? .ended : .rejected
        }
    }

    /// Whether some completion of the integer's digits so far lies within the bounds: with k
    /// more digits the magnitude is in m·10^k ... m·10^k + 10^k - 1 (none after a leading 0).
    private func integerFeasible(_ f: Frame, _ rule: IntegerRule) -> Bool {
        let negative = f.aux & 1 != 0
        // Beyond 64 bits only an open side can still be met.
        let unboundedAway = negative ? rule.lo == nil : rule.hi == nil
        if f.aux & 2 != 0 { return unboundedAway }
        let lo = rule.lo ?? Int64.min, hi = rule.hi ?? Int64.max
        var low = f.int, width: Int64 = 1
        let more = f.phase == 2 ? 0 : Int(Self.maxDigits - f.count)
        for _ in 0...max(more, 0) {
            let high = low.addingReportingOverflow(width - 1)
            let top = high.overflow ? Int64.max : high.partialValue
            let a = negative ? -top : low, b = negative ? -low : top
            if a <= hi && b >= lo { return true }
            let (l, o1) = low.multipliedReportingOverflow(by: 10)
            let (w, o2) = width.multipliedReportingOverflow(by: 10)
            if o1 || o2 { return unboundedAway }
            low = l
            width = w
        }
        return false
    }

    /// A bounded number's digit `d` just written: its orders against the edges at its place,
    /// and whether some completion still lies in the range.
    private func boundedDigit(_ f: inout Frame, _ d: UInt8, _ bounds: NumberBounds) -> Bool {
        let range = (f.aux & 1 != 0 ? bounds.negative : bounds.positive)!
        var (lo, hi) = Self.orders(f)
        let more = Int(Self.maxDigits - f.count)
        switch f.phase {
        case 2:
            return range.reachable(integerDigits: 0, more: 0, lo, hi)
        case 3:
            // The integer part is compared place by place while no longer than the edge's.
            let i = Int(f.count) - 1
            if let e = range.lower, i < e.integerDigits { lo = e.order(lo, after: d, at: i) }
            if let e = range.upper, i < e.integerDigits { hi = e.order(hi, after: d, at: i) }
            Self.setOrders(&f, (lo, hi))
            return range.reachable(integerDigits: Int(f.count), more: more, lo, hi)
        default:
            let j = Int(f.fraction) - 1
            if let e = range.lower { lo = e.order(lo, after: d, at: e.integerDigits + j) }
            if let e = range.upper { hi = e.order(hi, after: d, at: e.integerDigits + j) }
            Self.setOrders(&f, (lo, hi))
            return range.reachable(fractionDigits: Int(f.fraction), more: more, lo, hi)
        }
    }

    // MARK: - Strings

    /// String phases: 13 before the opening quote, 0 between characters, 1 after a backslash,
    /// 2-5 \u digits, 6 inside a multi-byte character, 7-8 a high surrogate's escape awaiting
    /// `\u` of its pair, 9-12 the pair's digits.
    private func string(_ f: inout Frame, _ b: UInt8) -> Outcome {
        switch f.phase {
        case 13:
            guard b == UInt8(ascii: "\"") else { return .rejected }
            f.phase = 0
            return .consumed
        case 0:
            switch b {
            case UInt8(ascii: "\""):
                return close(&f) ? .ended : .rejected
            case UInt8(ascii: "\\"):
                f.phase = 1
                // Some escaped character must be able to follow.
                return feasible(f, 0, 0xD7FF) || feasible(f, 0xE000, 0x10FFFF) ? .consumed : .rejected
            case 0x20...0x7F:
                return character(&f, b) ? .consumed : .rejected
            case 0xC2...0xF4:
                let (lo, hi): (UInt8, UInt8) =
                    b == 0xE0 ? (0xA0, 0xBF) : b == 0xED ? (0x80, 0x9F) : b == 0xF0 ? (0x90, 0xBF) : b == 0xF4 ? (0x80, 0x8F) : (0x80, 0xBF)
                let remaining: Int32 = b < 0xE0 ? 1 : b < 0xF0 ? 2 : 3
                f.phase = 6
                f.aux = remaining | Int32(lo) << 8 | Int32(hi) << 16
                return character(&f, b) ? .consumed : .rejected
            default:
                return .rejected
            }
        case 6:
            let lo = UInt8((f.aux >> 8) & 0xFF), hi = UInt8((f.aux >> 16) & 0xFF)
            guard b >= lo && b <= hi, content(&f, b) else { return .rejected }
            let remaining = (f.aux & 0xFF) - 1
            f.aux = remaining == 0 ? 0 : remaining | 0x80 << 8 | 0xBF << 16
            if remaining == 0 { f.phase = 0 }
            return .consumed
        case 1:
            let decoded: UInt32
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded = UInt32(b)
            case UInt8(ascii: "b"): decoded = 0x08
            case UInt8(ascii: "f"): decoded = 0x0C
            case UInt8(ascii: "n"): decoded = 0x0A
            case UInt8(ascii: "r"): decoded = 0x0D
            case UInt8(ascii: "t"): decoded = 0x09
            case UInt8(ascii: "u"):
                f.phase = 2
                f.aux = 0
                return .consumed
            default: return .rejected
            }
            f.phase = 0
            return scalar(&f, decoded) ? .consumed : .rejected
        case 2...5, 9...12:
            guard let digit = Self.hexValue(b) else { return .rejected }
            f.aux = f.aux * 16 + digit
            let done = f.phase == 5 || f.phase == 12
            let shift = UInt32(4 * (done ? 0 : (f.phase <= 5 ? 5 - Int(f.phase) : 12 - Int(f.phase))))
            let lo = UInt32(f.aux) << shift, hi = lo | ((1 << shift) - 1)
            if f.phase <= 5 {
                // A code unit: a BMP character, or the high half of a surrogate pair.
                var ok = feasible(f, lo, min(hi, 0xD7FF)) || feasible(f, max(lo, 0xE000), hi)
                if !ok && lo <= 0xDBFF && hi >= 0xD800 {
                    let h0 = max(lo, 0xD800), h1 = min(hi, 0xDBFF)
                    ok = feasible(f, 0x10000 + ((h0 - 0xD800) << 10), 0x10000 + ((h1 - 0xD800) << 10) + 0x3FF)
                }
                guard ok else { return .rejected }
                if !done {
                    f.phase += 1
                    return .consumed
                }
                if lo >= 0xD800 && lo <= 0xDBFF {
                    f.int = Int64(lo)
                    f.phase = 7
                    return .consumed
                }
                f.phase = 0
                return scalar(&f, lo) ? .consumed : .rejected
            }
            // The low half: only DC00-DFFF pairs.
            let l0 = max(lo, 0xDC00), l1 = min(hi, 0xDFFF)
            let base = 0x10000 + ((UInt32(f.int) - 0xD800) << 10)
            guard l0 <= l1, feasible(f, base + l0 - 0xDC00, base + l1 - 0xDC00) else { return .rejected }
            if !done {
                f.phase += 1
                return .consumed
            }
            f.phase = 0
            return scalar(&f, base + lo - 0xDC00) ? .consumed : .rejected
        case 7:
            guard b == UInt8(ascii: "\\") else { return .rejected }
            f.phase = 8
            return .consumed
        case 8:
            guard b == UInt8(ascii: "u") else { return .rejected }
            f.phase = 9
            f.aux = 0
            return .consumed
        default:
            return .rejected
        }
    }

    static func hexValue(_ b: UInt8) -> Int32? {
        switch b {
        case 0x30...0x39: return Int32(b - 0x30)
        case 0x41...0x46: return Int32(b - 0x41 + 10)
        case 0x61...0x66: return Int32(b - 0x61 + 10)
        default: return nil
        }
    }

    /// The walk's most frequent step: a printable ASCII character inside a string without an
    /// automaton (or a key that may be any string), taken in the frame alone. False: not that
    /// case (the general path decides).
    @inline(__always)
    private func ordinaryCharacter(_ f: inout Frame, _ b: UInt8) -> Bool {
        guard f.phase == 0, b >= 0x20, b < 0x7F, b != UInt8(ascii: "\""), b != UInt8(ascii: "\\") else { return false }
        switch (f.kind, schema.nodes[Int(f.node)]) {
        case let (.string, .string(rule)) where rule.dfa == nil:
            if let max = rule.maxLength, Int(f.count) >= max { return false }
            f.count += 1
            return true
        case let (.key, .object(rule)) where rule.additional != nil && f.dfa < 0:
            return true
        default:
            return false
        }
    }

    /// The string's rule (nil for a key).
    private func rule(_ f: Frame) -> StringRule? {
        guard f.kind == .string, case let .string(r) = schema.nodes[Int(f.node)] else { return nil }
        return r
    }

    /// The first byte of a character in the content: counts it, then feeds it.
    private func character(_ f: inout Frame, _ b: UInt8) -> Bool {
        if let r = rule(f), r.dfa == nil {
            if let max = r.maxLength, Int(f.count) >= max { return false }
            f.count += 1
            return true
        }
        return content(&f, b)
    }

    /// A decoded escape's character, fed whole.
    private func scalar(_ f: inout Frame, _ v: UInt32) -> Bool {
        let bytes = encode(v)
        guard character(&f, bytes[0]) else { return false }
        for b in bytes.dropFirst() where !content(&f, b) { return false }
        return true
    }

    /// A byte of the decoded content through the string's automaton (free strings have none).
    private func content(_ f: inout Frame, _ b: UInt8) -> Bool {
        if f.kind == .key {
            guard case let .object(rule) = schema.nodes[Int(f.node)] else { return false }
            if f.dfa < 0 { return true }
            let next = schema.dfas[Int(rule.keys)].step(f.dfa, b)
            if next >= 0 && (rule.additional != nil || keyLive(rule, next, f.seen)) {
                f.dfa = next
                return true
            }
            guard rule.additional != nil else { return false }
            f.dfa = -1
            return true
        }
        guard let r = rule(f), let d = r.dfa else { return true }
        let next = schema.dfas[Int(d)].step(f.dfa, b)
        guard next >= 0 else { return false }
        f.dfa = next
        return true
    }

    /// Whether some character in lo...hi may come next.
    private func feasible(_ f: Frame, _ lo: UInt32, _ hi: UInt32) -> Bool {
        guard lo <= hi else { return false }
        if f.kind == .key {
            guard case let .object(rule) = schema.nodes[Int(f.node)] else { return false }
            if f.dfa < 0 || rule.additional != nil { return true }
            return schema.dfas[Int(rule.keys)].targets(from: f.dfa, scalars: lo, hi).contains { keyLive(rule, $0, f.seen) }
        }
        guard let r = rule(f) else { return false }
        guard let d = r.dfa else { return r.maxLength.map { Int(f.count) < $0 } ?? true }
        return !schema.dfas[Int(d)].targets(from: f.dfa, scalars: lo, hi).isEmpty
    }

    /// The closing quote: whether the content is complete; for a key, which property it names.
    private func close(_ f: inout Frame) -> Bool {
        if f.kind == .key {
            guard case let .object(rule) = schema.nodes[Int(f.node)] else { return false }
            if f.dfa >= 0, case let k = rule.nameAt[Int(f.dfa)], k >= 0 {
                guard !f.seen.contains(Int(k)), rule.values[Int(k)] >= 0 else { return false }
                f.aux = k
                return true
            }
            guard rule.additional != nil else { return false }
            f.aux = -1
            return true
        }
        guard let r = rule(f) else { return false }
        if let d = r.dfa { return schema.dfas[Int(d)].isAccepting(f.dfa) }
        return Int(f.count) >= r.minLength
    }
}
