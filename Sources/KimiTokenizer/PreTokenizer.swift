/// Kimi's pre-tokenizer (the `pat_str` regex of Kimi K2's tokenization_kimi.py) as a hand-written scanner over UTF-8, with the exact
/// leftmost-first, backtracking semantics tiktoken's regex engine gives `pat_str`:
///
///     1  [\p{Han}]+
///     2  [^\r\n\p{L}\p{N}]?[Lu Lt Lm Lo M −Han]*[Ll Lm Lo M −Han]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
///     3  [^\r\n\p{L}\p{N}]?[Lu Lt Lm Lo M −Han]+[Ll Lm Lo M −Han]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
///     4  \p{N}{1,3}
///     5   ?[^\s\p{L}\p{N}]+[\r\n]*
///     6  \s*[\r\n]+
///     7  \s+(?!\S)
///     8  \s+
///
/// At each position the first alternative that matches wins; within one, quantifiers are
/// greedy and give back characters only as far as the rest of the alternative needs.
struct PreTokenizer {
    let bytes: UnsafeBufferPointer<UInt8>
    let classes: CharacterClasses

    typealias C = CharacterClasses

    /// Calls `body` with the byte range of every piece, in order; the pieces cover the input.
    static func forEachPiece(_ bytes: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let scanner = PreTokenizer(bytes: bytes, classes: .shared)
        var i = 0
        while i < bytes.count {
            let end = scanner.pieceEnd(i)
            body(i..<end)
            i = end
        }
    }

    /// Flags and length of the character at i (0 flags past the end).
    @inline(__always)
    func flags(_ i: Int) -> (flags: UInt8, length: Int) {
        guard i < bytes.count else { return (0, 0) }
        let b = bytes[i]
        if b < 0x80 { return (classes.flags(UInt32(b)), 1) }
        let (v, n) = utf8Scalar(bytes, i)
        return (classes.flags(v), n)
    }

    @inline(__always) func isNewline(_ i: Int) -> Bool { i < bytes.count && (bytes[i] == 0x0A || bytes[i] == 0x0D) }

    /// End of the run of characters whose flags intersect `mask`, from i.
    @inline(__always)
    func run(_ i: Int, _ mask: UInt8) -> Int {
        var j = i
        while j < bytes.count {
            let (f, n) = flags(j)
            if f & mask == 0 { break }
            j += n
        }
        return j
    }

    func pieceEnd(_ i: Int) -> Int {
        let (f0, n0) = flags(i)
        // 1. [\p{Han}]+
        if f0 & C.han != 0 { return run(i, C.han) }
        // 2, 3: letters, with one optional leading character that is not CR, LF, letter or number.
        let prefixOK = f0 & (C.letter | C.number) == 0 && !isNewline(i)
        if prefixOK, let end = lowerEnding(i + n0) { return contraction(end) }
        if let end = lowerEnding(i) { return contraction(end) }
        if prefixOK, let end = upperStarting(i + n0) { return contraction(end) }
        if let end = upperStarting(i) { return contraction(end) }
        // 4. \p{N}{1,3}
        if f0 & C.number != 0 {
            var j = i + n0
            for _ in 0..<2 {
                let (f, n) = flags(j)
                guard f & C.number != 0 else { break }
                j += n
            }
            return j
        }
        // 5. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        let other = C.space | C.letter | C.number
        var k = i
        if bytes[i] == 0x20, i + 1 < bytes.count, flags(i + 1).flags & other == 0 { k = i + 1 }
        if flags(k).flags & other == 0 {
            var j = k
            while j < bytes.count {
                let (f, n) = flags(j)
                if f & other != 0 { break }
                j += n
            }
            while isNewline(j) { j += 1 }
            return j
        }
        // 6-8: whitespace. i is whitespace here: every other character matched above.
        var j = i, lastNewline = -1, lastStart = i, count = 0
        while j < bytes.count {
            let (f, n) = flags(j)
            if f & C.space == 0 { break }
            if isNewline(j) { lastNewline = j }
            lastStart = j
            count += 1
            j += n
        }
        if lastNewline >= 0 { return lastNewline + 1 }  // 6. \s*[\r\n]+
        if j == bytes.count { return j }  // 7. \s+ at the end
        if count >= 2 { return lastStart }  // 7. \s+(?!\S) gives back one character
        return j  // 8. \s+
    }

    /// Alternative 2 from k: [Lu Lt Lm Lo M]*[Ll Lm Lo M]+ (Han excluded) with backtracking;
    /// nil when it cannot match at k.
    func lowerEnding(_ k: Int) -> Int? {
        var e = k, lastLowerEnd = -1
        while e < bytes.count {
            let (f, n) = flags(e)
            if f & C.upperish == 0 { break }
            if f & C.lowerish != 0 { lastLowerEnd = e + n }
            e += n
        }
        if flags(e).flags & C.lowerish != 0 { return run(e, C.lowerish) }
        return lastLowerEnd >= 0 ? lastLowerEnd : nil
    }

    /// Alternative 3 from k: [Lu Lt Lm Lo M]+[Ll Lm Lo M]* (Han excluded); nil when it cannot match.
    func upperStarting(_ k: Int) -> Int? {
        guard flags(k).flags & C.upperish != 0 else { return nil }
        return run(run(k, C.upperish), C.lowerish)
    }

    /// Extends a letter run by (?i:'s|'t|'re|'ve|'m|'ll|'d) when one follows.
    func contraction(_ end: Int) -> Int {
        guard end < bytes.count, bytes[end] == 0x27, end + 1 < bytes.count else { return end }
        @inline(__always) func lower(_ i: Int) -> UInt8 { i < bytes.count ? bytes[i] | 0x20 : 0 }
        let c = lower(end + 1)
        // 's also matches U+017F LATIN SMALL LETTER LONG S (simple case folding).
        if c == UInt8(ascii: "s") || c == UInt8(ascii: "t") || c == UInt8(ascii: "m") || c == UInt8(ascii: "d") {
            return end + 2
        }
        if bytes[end + 1] == 0xC5, end + 2 < bytes.count, bytes[end + 2] == 0xBF { return end + 3 }
        let c2 = lower(end + 2)
        if (c == UInt8(ascii: "r") && c2 == UInt8(ascii: "e")) || (c == UInt8(ascii: "v") && c2 == UInt8(ascii: "e"))
            || (c == UInt8(ascii: "l") && c2 == UInt8(ascii: "l"))
        {
            return end + 3
        }
        return end
    }
}
