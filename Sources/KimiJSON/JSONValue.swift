/// A JSON document as written: objects keep their key order, numbers keep their literal text.
///
/// Foundation's JSON types reorder keys and reformat numbers; the chat template renders tool
/// schemas exactly as the client sent them, and checkpoint headers are parsed far faster by a
/// byte scanner than through `NSDictionary`, so the project reads and writes JSON with this type.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// The number's literal text, as in the source (`1`, `-0.5e3`); see `int` and `double`.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public init(_ value: Int) { self = .number(String(value)) }
    public init(_ value: Double) { self = .number(value.isFinite ? "\(value)" : "null") }

    public var isNull: Bool { self == .null }
    public var bool: Bool? { if case let .bool(b) = self { return b } else { return nil } }
    public var string: String? { if case let .string(s) = self { return s } else { return nil } }
    public var array: [JSONValue]? { if case let .array(a) = self { return a } else { return nil } }
    public var object: JSONObject? { if case let .object(o) = self { return o } else { return nil } }

    /// The value of an integer literal (no fraction, no exponent) that fits in `Int`.
    public var int: Int? {
        guard case let .number(text) = self else { return nil }
        return Int(text)
    }

    /// The value of any number literal.
    public var double: Double? {
        guard case let .number(text) = self else { return nil }
        return Double(text)
    }

    public subscript(key: String) -> JSONValue? { object?[key] }
}

/// A JSON object's members in document order. A repeated key keeps its first position and its
/// last value (as Python's `json.loads` does). Keys are the same when their UTF-8 is, as in
/// Python: two spellings of one character ("é" and "e" + U+0301) are two keys. Lookups are hashed.
public struct JSONObject: Equatable, Sendable, Sequence {
    public private(set) var keys: [String] = []
    public private(set) var values: [JSONValue] = []
    private var positions: [Key: Int] = [:]

    /// A key hashed and compared by its UTF-8 bytes; String's == and hash treat canonically
    /// equivalent strings as one.
    private struct Key: Hashable {
        let text: String
        init(_ text: String) { self.text = text }
        static func == (a: Key, b: Key) -> Bool { a.text.utf8.elementsEqual(b.text.utf8) }
        func hash(into hasher: inout Hasher) {
            var text = text
            text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        }
    }

    public init() {}

    public init(_ members: KeyValuePairs<String, JSONValue>) {
        for (k, v) in members { self[k] = v }
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? {
        get { positions[Key(key)].map { values[$0] } }
        set {
            if let i = positions[Key(key)] {
                if let newValue {
                    values[i] = newValue
                } else {
                    keys.remove(at: i)
                    values.remove(at: i)
                    positions[Key(key)] = nil
                    for j in i..<keys.count { positions[Key(keys[j])] = j }
                }
            } else if let newValue {
                positions[Key(key)] = keys.count
                keys.append(key)
                values.append(newValue)
            }
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool { a.keys == b.keys && a.values == b.values }

    public func makeIterator() -> Zip2Sequence<[String], [JSONValue]>.Iterator {
        zip(keys, values).makeIterator()
    }
}
