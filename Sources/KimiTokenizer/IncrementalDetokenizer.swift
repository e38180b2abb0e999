/// Turns a stream of token ids into output pieces for streaming: text, and each tool-call or
/// reasoning marker's special id as a piece of its own (`Tokenizer.toolCallMarker`,
/// `Tokenizer.reasoningMarker`). A token may
/// end inside a multi-byte character (CJK and emoji often do), so bytes of an incomplete
/// trailing sequence are held back until the character completes. Invalid bytes become U+FFFD
/// at once; an incomplete sequence becomes U+FFFD when a marker comes (a character cannot
/// continue across it) or, left at the very end, in `finish()`.
public struct IncrementalDetokenizer {
    let tokenizer: Tokenizer
    let skipping: Set<Int>
    private var pending: [UInt8] = []

    /// - skipping: ids that produce no text (e.g. the control tokens, as Hugging Face's
    ///   skip_special_tokens). The tool-call and reasoning markers are never skipped.
    public init(tokenizer: Tokenizer, skipping: Set<Int> = []) {
        self.tokenizer = tokenizer
        self.skipping = skipping
    }

    /// The pieces completed by this token (possibly none).
    public mutating func append(_ id: Int) -> [OutputPiece] {
        let marker = tokenizer.toolCallMarker(id).map(OutputPiece.marker) ?? tokenizer.reasoningMarker(id).map(OutputPiece.reasoning)
        if let marker {
            let held = finish()
            return held.isEmpty ? [marker] : [.text(held), marker]
        }
        if !skipping.contains(id), let b = tokenizer.bytes(of: id) { pending += b }
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return [] }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return [.text(text)]
    }

    /// Whatever is still held back, with U+FFFD for an unfinished character.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// The length of the longest prefix that does not end inside a character that later bytes
    /// could still complete: everything except a trailing truncated but so far valid sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        // A UTF-8 sequence is at most 4 bytes: look back at most 3 for its lead byte.
        var i = n - 1
        while i >= 0 && i >= n - 3 && bytes[i] & 0xC0 == 0x80 { i -= 1 }
        guard i >= 0 else { return n }
        let lead = bytes[i]
        let needed: Int
        switch lead {
        case 0xC2...0xDF: needed = 2
        case 0xE0...0xEF: needed = 3
        case 0xF0...0xF4: needed = 4
        default: return n  // ASCII or a byte that cannot start a sequence: nothing to wait for
        }
        let have = n - i
        guard have < needed else { return n }
        // Hold back only if the bytes so far are a valid prefix (second-byte ranges per RFC 3629).
        if have >= 2 {
            let second = bytes[i + 1]
            let valid: Bool
            switch lead {
            case 0xE0: valid = (0xA0...0xBF).contains(second)
            case 0xED: valid = (0x80...0x9F).contains(second)
            case 0xF0: valid = (0x90...0xBF).contains(second)
            case 0xF4: valid = (0x80...0x8F).contains(second)
            default: valid = true
            }
            if !valid { return n }
        }
        return i
    }
}

extension Tokenizer {
    /// A whole output's pieces, exactly as the incremental detokenizer streams them.
    public func decodeOutput(_ ids: [Int]) -> [OutputPiece] {
        var detokenizer = IncrementalDetokenizer(tokenizer: self)
        let pieces = ids.flatMap { detokenizer.append($0) }
        let rest = detokenizer.finish()
        return rest.isEmpty ? pieces : pieces + [.text(rest)]
    }
}
