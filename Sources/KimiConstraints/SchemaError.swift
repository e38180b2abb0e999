/// Why a JSON Schema cannot be compiled into a constraint. Renders itself for a 400's message.
public enum SchemaError: Error, Equatable, CustomStringConvertible {
    /// Not a valid JSON Schema (a wrong keyword type, a dangling $ref, an empty enum).
    case invalid(String)
    /// A valid keyword this engine cannot enforce; refused when the request asked for strictness.
    case unsupported(String, String)
    /// A construct beyond the engine's bounds (automaton size, nesting).
    case tooComplex(String)

    public var description: String {
        switch self {
        case let .invalid(why): return "invalid JSON Schema: \(why)"
        case let .unsupported(_, why): return "unsupported JSON Schema: \(why)"
        case let .tooComplex(what): return "JSON Schema too complex to enforce: \(what)"
        }
    }

    /// The keyword the error names, if it is about one.
    public var keyword: String? {
        if case let .unsupported(keyword, _) = self { return keyword }
        return nil
    }
}
