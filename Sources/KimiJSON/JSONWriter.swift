/// Serialises `JSONValue` like Python's `json.dumps(ensure_ascii=False)`: members in order,
/// non-ASCII as is, `"` `\` and control characters escaped. `compact` selects the separators
/// `,` `:` instead of the default `, ` `: `. With `pythonNumbers`, numbers are written as
/// Python writes the value `json.loads` reads from them (`1E3` → `1000.0`, `-0` → `0`,
/// `2.5e-5` → `2.5e-05`); otherwise their literal text is kept.
public struct JSONWriter {
    public var compact: Bool
    public var pythonNumbers: Bool

    public init(compact: Bool = true, pythonNumbers: Bool = false) {
        self.compact = compact
        self.pythonNumbers = pythonNumbers
    }

    public func string(_ value: JSONValue) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    public func write(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(n): out += pythonNumbers ? PythonNumber.format(n) : n
        case let .string(s): Self.quote(s, to: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += compact ? "," : ", " }
                write(item, to: &out)
            }
            out += "]"
        case let .object(object):
            out += "{"
            for (i, (key, item)) in object.enumerated() {
                if i > 0 { out += compact ? "," : ", " }
                Self.quote(key, to: &out)
                out += compact ? ":" : ": "
                write(item, to: &out)
            }
            out += "}"
        }
    }

    public static func quote(_ s: String, to out: inout String) {
        quote(s, to: &out, escaping: { _ in false })
    }

    /// `s` as a JSON string literal, with the scalars `escaping` picks also written as `\u`
    /// escapes (beyond the controls JSON requires).
    public static func quote(_ s: String, to out: inout String, escaping extra: (Unicode.Scalar) -> Bool) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 || extra(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}
