/// The regular expressions of `pattern` and of the formats, compiled to a `ByteDFA` over the
/// UTF-8 of a string's characters. The subset (README, "Structured output"): literals and
/// escaped punctuation, `.` (any character but a line break), `\d \w \s` and their negations,
/// classes `[...]` and `[^...]` with ranges, groups `(...)` and `(?:...)`,
/// `|`, the quantifiers `* + ? {n} {n,} {n,m}` (a lazy `?` after them changes nothing for a
/// whole-string match), `^` at the start and `$` at the end of a top-level alternative.
/// As in JSON Schema, an alternative without `^` or `$` may be preceded or followed by anything.
/// Backreferences, lookaround, `\b` and `\p{…}` are refused.
struct Pattern {
    indirect enum Node {
        case empty
        case set(ScalarSet)
        case concat([Node])
        case alternation([Node])
        case repeated(Node, min: Int, max: Int?)
    }

    static let maxRepeat = 1000

    /// The DFA of strings the pattern matches (searched, as JSON Schema's `pattern` is).
    static func compile(_ source: String) throws -> ByteDFA {
        var parser = Parser(scalars: Array(source.unicodeScalars), source: source)
        let branches = try parser.topLevel()
        var nfa = NFA()
        nfa.start = try nfa.state()
        nfa.accept = try nfa.state()
        let anything = Node.repeated(.set(.all), min: 0, max: nil)
        for (node, anchoredStart, anchoredEnd) in branches {
            var parts: [Node] = []
            if !anchoredStart { parts.append(anything) }
            parts.append(node)
            if !anchoredEnd { parts.append(anything) }
            try build(.concat(parts), &nfa, from: nfa.start, to: nfa.accept)
        }
        guard let dfa = try ByteDFA.determinize(nfa) else {
            throw SchemaError.invalid("pattern \(quoted(source)) matches no string")
        }
        return dfa
    }

    static func build(_ node: Node, _ nfa: inout NFA, from: Int32, to: Int32) throws {
        switch node {
        case .empty:
            nfa.epsilon(from, to)
        case let .set(set):
            try nfa.scalars(set, from: from, to: to)
        case let .concat(parts):
            guard !parts.isEmpty else { return nfa.epsilon(from, to) }
            var at = from
            for (i, p) in parts.enumerated() {
                let next = i == parts.count - 1 ? to : try nfa.state()
                try build(p, &nfa, from: at, to: next)
                at = next
            }
        case let .alternation(branches):
            for b in branches { try build(b, &nfa, from: from, to: to) }
        case let .repeated(inner, min, max):
            var at = from
            for _ in 0..<min {
                let next = try nfa.state()
                try build(inner, &nfa, from: at, to: next)
                at = next
            }
            if let max {
                for _ in min..<max {
                    let next = try nfa.state()
                    try build(inner, &nfa, from: at, to: next)
                    nfa.epsilon(at, to)
                    at = next
                }
                nfa.epsilon(at, to)
            } else {
                // A loop through a fresh state, so that the body's own edges stay separate.
                let loop = try nfa.state()
                nfa.epsilon(at, loop)
                let back = try nfa.state()
                try build(inner, &nfa, from: loop, to: back)
                nfa.epsilon(back, loop)
                nfa.epsilon(loop, to)
            }
        }
    }

    static func quoted(_ s: String) -> String { "'\(s.prefix(200))'" }

    /// A shorthand's characters where validators disagree: ECMA-262 (JSON Schema's regex
    /// dialect) reads `\d` and `\w` as ASCII, Python's `re` (jsonschema's) as Unicode, and their
    /// `\s` differ at the edges. `narrow` is what both accept, used where the shorthand matches;
    /// `wide` is what either accepts, used where it is negated (`\D`, `[^\s]`), so that what is
    /// generated matches under both.
    struct Shorthand {
        let narrow: ScalarSet
        let wide: ScalarSet

        init(narrow: ScalarSet, wide: ScalarSet) {
            self.narrow = narrow
            self.wide = wide
        }

        /// Characters every dialect agrees on.
        init(exactly set: ScalarSet) { self.init(narrow: set, wide: set) }
    }

    static let digits = Shorthand(narrow: ScalarSet([0x30...0x39]), wide: unicode { $0.properties.numericType == .decimal })
    static let word = Shorthand(
        narrow: ScalarSet([0x30...0x39, 0x41...0x5A, 0x5F...0x5F, 0x61...0x7A]),
        wide: unicode { s in
            s == "_" || s.properties.numericType != nil
                || [.uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter].contains(
                    s.properties.generalCategory)
        })
    static let space = Shorthand(
        narrow: ScalarSet([
            0x09...0x0D, 0x20...0x20, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029, 0x202F...0x202F,
            0x205F...0x205F, 0x3000...0x3000,
        ]),
        wide: ScalarSet([
            0x09...0x0D, 0x1C...0x20, 0x85...0x85, 0xA0...0xA0, 0x1680...0x1680, 0x2000...0x200A, 0x2028...0x2029,
            0x202F...0x202F, 0x205F...0x205F, 0x3000...0x3000, 0xFEFF...0xFEFF,
        ]))

    /// The scalars with a property, and the ASCII ones of the narrow sets.
    static func unicode(_ has: (Unicode.Scalar) -> Bool) -> ScalarSet {
        var set = ScalarSet()
        var start: UInt32?
        for v in UInt32(0)...ScalarSet.maxScalar + 1 {
            let inSet = v <= ScalarSet.maxScalar && Unicode.Scalar(v).map(has) == true
            if inSet && start == nil { start = v }
            if !inSet, let s = start {
                set.insert(s...(v - 1))
                start = nil
            }
        }
        return set
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        let source: String
        var at = 0

        func fail(_ why: String) -> SchemaError {
            .unsupported("pattern", "pattern \(Pattern.quoted(source)): \(why) (at character \(at))")
        }

        var peek: Unicode.Scalar? { at < scalars.count ? scalars[at] : nil }

        /// Top-level alternatives with their anchors.
        mutating func topLevel() throws -> [(Node, Bool, Bool)] {
            var out: [(Node, Bool, Bool)] = []
            while true {
                var anchoredStart = false
                if peek == "^" { at += 1; anchoredStart = true }
                var parts: [Node] = []
                var anchoredEnd = false
                while let c = peek, c != "|" {
                    if c == "$" {
                        at += 1
                        guard peek == nil || peek == "|" else { throw fail("'$' is supported only at the end") }
                        anchoredEnd = true
                        break
                    }
                    parts.append(try repeated())
                }
                out.append((.concat(parts), anchoredStart, anchoredEnd))
                if peek == "|" { at += 1; continue }
                return out
            }
        }

        mutating func alternation() throws -> Node {
            var branches: [Node] = [try concatenation()]
            while peek == "|" {
                at += 1
                branches.append(try concatenation())
            }
            return branches.count == 1 ? branches[0] : .alternation(branches)
        }

        mutating func concatenation() throws -> Node {
            var parts: [Node] = []
            while let c = peek, c != "|", c != ")" { parts.append(try repeated()) }
            return .concat(parts)
        }

        mutating func repeated() throws -> Node {
            var node = try atom()
            while let c = peek {
                var bounds: (Int, Int?)
                switch c {
                case "*": at += 1; bounds = (0, nil)
                case "+": at += 1; bounds = (1, nil)
                case "?": at += 1; bounds = (0, 1)
                case "{":
                    guard let b = try braces() else { return node }
                    bounds = b
                default: return node
                }
                if peek == "?" { at += 1 }  // lazy: the same set of whole-string matches
                guard bounds.0 <= Pattern.maxRepeat, (bounds.1 ?? 0) <= Pattern.maxRepeat else {
                    throw fail("repetition counts above \(Pattern.maxRepeat)")
                }
                if let hi = bounds.1, hi < bounds.0 { throw fail("a repetition {m,n} needs m ≤ n") }
                node = .repeated(node, min: bounds.0, max: bounds.1)
            }
            return node
        }

        /// `{n}`, `{n,}`, `{n,m}`; nil (and nothing consumed) when the brace is a literal.
        mutating func braces() throws -> (Int, Int?)? {
            var i = at + 1
            func number() -> Int? {
                var v = 0, any = false
                while i < scalars.count, let d = Int(String(scalars[i])), scalars[i].isASCII {
                    v = min(v * 10 + d, 1_000_000)
                    any = true
                    i += 1
                }
                return any ? v : nil
            }
            guard let lo = number() else { return nil }
            var hi: Int? = lo
            if i < scalars.count && scalars[i] == "," {
                i += 1
                hi = number()
            }
            guard i < scalars.count && scalars[i] == "}" else { return nil }
            at = i + 1
            return (lo, hi)
        }

        mutating func atom() throws -> Node {
            guard let c = peek else { throw fail("unexpected end") }
            at += 1
            switch c {
            case "(":
                if peek == "?" {
                    guard at + 1 < scalars.count, scalars[at + 1] == ":" else {
                        throw fail("lookaround and named groups are not supported")
                    }
                    at += 2
                }
                let inner = try alternation()
                guard peek == ")" else { throw fail("unbalanced parenthesis") }
                at += 1
                return inner
            case ")": throw fail("unbalanced parenthesis")
            case "[": return .set(try characterClass())
            case ".": return .set(ScalarSet([0...0x09, 0x0B...0x0C, 0x0E...0x2027, 0x202A...ScalarSet.maxScalar]))
            case "\\": return .set(try escape(inClass: false).narrow)
            case "^", "$": throw fail("'\(c)' is supported only at the start or end of the pattern")
            case "*", "+", "?": throw fail("nothing to repeat")
            default: return .set(ScalarSet(c))
            }
        }

        /// An escape's characters where it matches (`narrow`) and where it is negated (`wide`).
        mutating func escape(inClass: Bool) throws -> Shorthand {
            guard let c = peek else { throw fail("a trailing backslash") }
            at += 1
            switch c {
            case "d": return Pattern.digits
            case "D": return Shorthand(narrow: Pattern.digits.wide.complement, wide: Pattern.digits.narrow.complement)
            case "w": return Pattern.word
            case "W": return Shorthand(narrow: Pattern.word.wide.complement, wide: Pattern.word.narrow.complement)
            case "s": return Pattern.space
            case "S": return Shorthand(narrow: Pattern.space.wide.complement, wide: Pattern.space.narrow.complement)
            case "t": return Shorthand(exactly: ScalarSet("\t"))
            case "n": return Shorthand(exactly: ScalarSet("\n"))
            case "r": return Shorthand(exactly: ScalarSet("\r"))
            case "f": return Shorthand(exactly: ScalarSet([0x0C...0x0C]))
            case "v": return Shorthand(exactly: ScalarSet([0x0B...0x0B]))
            case "0": return Shorthand(exactly: ScalarSet([0...0]))
            case "x", "u":
                let n = c == "x" ? 2 : 4
                guard at + n <= scalars.count, let v = UInt32(String(String.UnicodeScalarView(scalars[at..<at + n])), radix: 16) else {
                    throw fail("\\\(c) needs \(n) hex digits")
                }
                at += n
                return Shorthand(exactly: ScalarSet([v...v]))
            case "b" where inClass: return Shorthand(exactly: ScalarSet([0x08...0x08]))
            default:
                if c.properties.isAlphabetic || c.properties.numericType != nil {
                    throw fail("the escape \\\(c) is not supported")
                }
                return Shorthand(exactly: ScalarSet(c))
            }
        }

        mutating func characterClass() throws -> ScalarSet {
            var negate = false
            if peek == "^" { at += 1; negate = true }
            var set = ScalarSet()  // narrow: what the class matches when it is not negated
            var wide = ScalarSet()  // what it must exclude when it is
            var first = true
            while true {
                guard let c = peek else { throw fail("an unterminated character class") }
                if c == "]" && !first { at += 1; break }
                first = false
                at += 1
                var lo: UInt32
                if c == "\\" {
                    let e = try escape(inClass: true)
                    guard e.narrow == e.wide, e.narrow.ranges.count == 1, e.narrow.ranges[0].count == 1 else {
                        set.formUnion(e.narrow)
                        wide.formUnion(e.wide)
                        continue
                    }
                    lo = e.narrow.ranges[0].lowerBound
                } else {
                    lo = c.value
                }
                if peek == "-", at + 1 < scalars.count, scalars[at + 1] != "]" {
                    at += 1
                    let d = scalars[at]
                    at += 1
                    var hi = d.value
                    if d == "\\" {
                        let e = try escape(inClass: true).narrow
                        guard e.ranges.count == 1, e.ranges[0].count == 1 else { throw fail("a class shorthand cannot end a range") }
                        hi = e.ranges[0].lowerBound
                    }
                    guard lo <= hi else { throw fail("a range out of order") }
                    set.insert(lo...hi)
                    wide.insert(lo...hi)
                } else {
                    set.insert(lo...lo)
                    wide.insert(lo...lo)
                }
            }
            return negate ? wide.complement : set
        }
    }
}
