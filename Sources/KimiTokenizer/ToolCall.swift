/// One tool call parsed from Kimi's output (spec §6): `id` exactly as the model wrote it
/// (`functions.get_weather:0`), the function name recovered from it, the raw argument text.
public struct ToolCall: Equatable, Sendable {
    public var id: String
    public var name: String
    public var arguments: String
    /// False for a call cut off before it ended (generation stopped inside it).
    public var complete: Bool

    public init(id: String, name: String, arguments: String, complete: Bool) {
        self.id = id
        self.name = name
        self.arguments = arguments
        self.complete = complete
    }

    /// `functions.NAME:IDX` → NAME; names may contain `.`, `-` and `_`. Without the prefix or
    /// the index, what is there is the name.
    public static func name(fromID id: String) -> String {
        var name = Substring(id)
        if name.hasPrefix("functions.") { name = name.dropFirst("functions.".count) }
        if let colon = name.lastIndex(of: ":"), name.index(after: colon) < name.endIndex,
           name[name.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            name = name[..<colon]
        }
        return String(name)
    }
}

/// The marker strings of Kimi's tool-call format, with the singular section variant seen in
/// the wild (`<|tool_call_section_begin|>`).
enum ToolCallMarker: CaseIterable {
    case sectionBegin, sectionEnd, callBegin, argumentBegin, callEnd

    var texts: [String] {
        switch self {
        case .sectionBegin: return ["<|tool_calls_section_begin|>", "<|tool_call_section_begin|>"]
        case .sectionEnd: return ["<|tool_calls_section_end|>", "<|tool_call_section_end|>"]
        case .callBegin: return ["<|tool_call_begin|>"]
        case .argumentBegin: return ["<|tool_call_argument_begin|>"]
        case .callEnd: return ["<|tool_call_end|>"]
        }
    }

    static let all: [(marker: ToolCallMarker, text: String)] = allCases.flatMap { m in m.texts.map { (m, $0) } }

    /// The first marker in `text` (compared as UTF-8 bytes, so a combining mark after a marker
    /// does not hide it).
    static func first(in text: Substring) -> (marker: ToolCallMarker, range: Range<Substring.Index>)? {
        first(in: text, among: all)
    }

    /// The first occurrence of one particular marker in `text`.
    static func first(_ marker: ToolCallMarker, in text: Substring) -> Range<Substring.Index>? {
        first(in: text, among: all.filter { $0.marker == marker })?.range
    }

    private static func first(in text: Substring, among markers: [(marker: ToolCallMarker, text: String)])
        -> (marker: ToolCallMarker, range: Range<Substring.Index>)? {
        let utf8 = text.utf8
        var i = utf8.startIndex
        while let open = utf8[i...].firstIndex(of: UInt8(ascii: "<")) {
            for (marker, markerText) in markers where utf8[open...].starts(with: markerText.utf8) {
                return (marker, open..<utf8.index(open, offsetBy: markerText.utf8.count))
            }
            i = utf8.index(after: open)
        }
        return nil
    }

    /// The number of UTF-8 bytes at the end of `text` that are a proper prefix of some marker.
    static func partialSuffixLength(_ text: Substring) -> Int {
        guard let open = text.utf8.lastIndex(of: UInt8(ascii: "<")) else { return 0 }
        let tail = text.utf8[open...]
        for (_, markerText) in all where markerText.utf8.count > tail.count && markerText.utf8.starts(with: tail) {
            return tail.count
        }
        return 0
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension Unicode.Scalar {
    /// Python's `\s` in the official parsing regexes: the White_Space property.
    var isSpace: Bool { properties.isWhitespace }
}

extension StringProtocol {
    /// Without leading and trailing White_Space scalars.
    func trimmingWhitespace() -> Substring {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.isSpace }) else { return Substring(self)[endIndex...] }
        let last = scalars.lastIndex(where: { !$0.isSpace })!
        return Substring(scalars[first...last])
    }
}
