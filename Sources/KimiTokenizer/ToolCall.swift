/// One tool call parsed from Kimi's output: `id` exactly as the model wrote it
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
            name[name.index(after: colon)...].allSatisfy(\.isASCIIDigit)
        {
            name = name[..<colon]
        }
        return String(name)
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
