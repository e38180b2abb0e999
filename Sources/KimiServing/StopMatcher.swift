/// Finds stop strings in streamed text, across token boundaries: text that could be the start
/// of a stop string is held back until it is known not to be one, and neither a stop string nor
/// anything after it is ever released. Matching is on UTF-8 bytes.
public struct StopMatcher {
    let stops: [[UInt8]]
    private var pending: [UInt8] = []

    public init(_ stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }.map { Array($0.utf8) }
    }

    public enum Outcome: Equatable {
        /// Text that is safe to release (possibly empty).
        case text(String)
        /// A stop string completed: the text before it is released and generation ends.
        case stopped(before: String, stop: String)
    }

    public mutating func append(_ text: String) -> Outcome {
        guard !stops.isEmpty else { return .text(text) }
        pending += text.utf8
        // The earliest complete stop string wins.
        var earliest: (at: Int, stop: [UInt8])?
        for stop in stops {
            if let at = Self.find(stop, in: pending), earliest.map({ at < $0.at }) ?? true { earliest = (at, stop) }
        }
        if let (at, stop) = earliest {
            let before = String(decoding: pending[..<at], as: UTF8.self)
            pending.removeAll()
            return .stopped(before: before, stop: String(decoding: stop, as: UTF8.self))
        }
        // Hold back the longest suffix that is a proper prefix of a stop string.
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, pending.count), to: hold, by: -1)
            where pending.suffix(length).elementsEqual(stop.prefix(length)) {
                hold = length
                break
            }
        }
        // Never split a UTF-8 sequence: the held part starts at a character boundary.
        var cut = pending.count - hold
        while cut > 0 && cut < pending.count && pending[cut] & 0xC0 == 0x80 { cut -= 1 }
        let ready = String(decoding: pending[..<cut], as: UTF8.self)
        pending.removeFirst(cut)
        return .text(ready)
    }

    /// What is still held back when generation ends for another reason.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if haystack[i..<i + needle.count].elementsEqual(needle) { return i }
        }
        return nil
    }
}
