/// The character classes Kimi's pre-tokenizer pattern (`pat_str` in Kimi K2's
/// tokenization_kimi.py) and its long-input rule (runs of more than 25,000 whitespace or
/// non-whitespace characters are cut before encoding, as that file's `encode` does) test, one byte of flags per code point, in a two-level table built once from the
/// standard library's Unicode properties (general category, White_Space) and `hanScriptRanges`.
struct CharacterClasses: Sendable {
    /// \p{L}
    static let letter: UInt8 = 1 << 0
    /// \p{N}
    static let number: UInt8 = 1 << 1
    /// \s: the White_Space property
    static let space: UInt8 = 1 << 2
    /// \p{Han}
    static let han: UInt8 = 1 << 3
    /// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]
    static let upperish: UInt8 = 1 << 4
    /// [\p{Ll}\p{Lm}\p{Lo}\p{M}&&[^\p{Han}]]
    static let lowerish: UInt8 = 1 << 5
    /// Python's str.isspace() (category Zs or bidi class WS, B, S), used by the 25 000-run cut.
    static let pythonSpace: UInt8 = 1 << 6

    static let shared = CharacterClasses()

    /// (0x110000 / 256) block numbers into `blocks`
    let index: [UInt16]
    /// (unique blocks × 256) flags
    let blocks: [UInt8]

    private init() {
        let pythonSpaces: Set<UInt32> = [
            0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
            0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008,
            0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
        ]
        var isHan = [Bool](repeating: false, count: 0x110000)
        for r in hanScriptRanges { for v in r { isHan[Int(v)] = true } }
        var index: [UInt16] = []
        var blocks: [UInt8] = []
        var seen: [[UInt8]: UInt16] = [:]
        for block in 0..<(0x110000 / 256) {
            var flags = [UInt8](repeating: 0, count: 256)
            for i in 0..<256 {
                let v = UInt32(block * 256 + i)
                guard let scalar = Unicode.Scalar(v) else { continue }
                flags[i] = Self.classify(scalar, han: isHan[Int(v)], pythonSpace: pythonSpaces.contains(v))
            }
            if let known = seen[flags] {
                index.append(known)
            } else {
                let n = UInt16(blocks.count / 256)
                seen[flags] = n
                index.append(n)
                blocks += flags
            }
        }
        self.index = index
        self.blocks = blocks
    }

    private static func classify(_ s: Unicode.Scalar, han: Bool, pythonSpace: Bool) -> UInt8 {
        var f: UInt8 = 0
        let p = s.properties
        switch p.generalCategory {
        case .uppercaseLetter, .titlecaseLetter:
            f |= letter | (han ? 0 : upperish)
        case .lowercaseLetter:
            f |= letter | (han ? 0 : lowerish)
        case .modifierLetter, .otherLetter:
            f |= letter | (han ? 0 : upperish | lowerish)
        case .nonspacingMark, .spacingMark, .enclosingMark:
            f |= han ? 0 : upperish | lowerish
        case .decimalNumber, .letterNumber, .otherNumber:
            f |= number
        default:
            break
        }
        if p.isWhitespace { f |= space }
        if han { f |= Self.han }
        if pythonSpace { f |= Self.pythonSpace }
        return f
    }

    @inline(__always)
    func flags(_ scalar: UInt32) -> UInt8 {
        blocks[Int(index[Int(scalar >> 8)]) << 8 | Int(scalar & 0xFF)]
    }
}
