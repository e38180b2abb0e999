import KimiJSON

/// JSON Schema (Draft 2020-12, with the Draft 7 spellings `definitions`, array `items` and
/// `additionalItems`) → `SchemaNode`s. `$ref` and `allOf` are resolved by merging schemas
/// before compiling; unions keep their branches.
final class SchemaCompiler {
    let document: JSONValue
    let strict: Bool
    private var nodes: [SchemaNode?] = []
    private var references: [String: Int32] = [:]
    private var dfas: [ByteDFA] = []
    private var dfaIndex: [String: Int32] = [:]
    private var depth = 0

    static let maxDepth = 64
    static let maxNodes = 20_000

    /// Keywords that only annotate.
    static let annotations: Set<String> = [
        "title", "description", "default", "examples", "$schema", "$id", "$comment", "$anchor", "deprecated",
        "readOnly", "writeOnly", "contentEncoding", "contentMediaType", "discriminator", "strict", "$defs", "definitions",
    ]
    /// Validation keywords this engine does not enforce.
    static let unenforced: Set<String> = [
        "multipleOf", "uniqueItems", "minProperties", "maxProperties", "patternProperties", "propertyNames",
        "dependentRequired", "dependentSchemas", "dependencies", "if", "then", "else", "not", "contains",
        "minContains", "maxContains", "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef",
        "contentSchema",
    ]
    static let formats: Set<String> = ["date-time", "date", "time", "uuid", "email"]

    init(document: JSONValue, strict: Bool) {
        self.document = document
        self.strict = strict
    }

    func compile() throws -> CompiledSchema {
        guard let root = try node(document, path: "#") else { throw SchemaError.invalid("the schema admits no value") }
        var built = nodes.map { $0 ?? .union([]) }
        let productive = Self.productive(built)
        // Drop what can never be completed, so that generation cannot walk into a dead end.
        for i in built.indices {
            switch built[i] {
            case let .union(alternatives):
                built[i] = .union(alternatives.filter { productive[Int($0)] })
            case let .object(rule):
                let values = rule.values.map { $0 >= 0 && productive[Int($0)] ? $0 : -1 }
                built[i] = .object(rule.with(values: values, additional: rule.additional.flatMap { productive[Int($0)] ? $0 : nil }))
            case var .array(rule):
                if let items = rule.items, !productive[Int(items)] { rule.items = nil }
                built[i] = .array(rule)
            default: break
            }
        }
        guard productive[Int(root)] else { throw SchemaError.invalid("the schema admits no finite value") }
        var leaves: [[Int32]] = []
        for i in built.indices {
            var out: [Int32] = []
            var seen: Set<Int32> = []
            func flatten(_ n: Int32) {
                guard seen.insert(n).inserted else { return }
                if case let .union(alternatives) = built[Int(n)] {
                    alternatives.forEach(flatten)
                } else if productive[Int(n)] {
                    out.append(n)
                }
            }
            flatten(Int32(i))
            leaves.append(out)
        }
        return CompiledSchema(nodes: built, leaves: leaves, dfas: dfas, root: root)
    }

    /// Which nodes admit some finite value (least fixpoint).
    static func productive(_ nodes: [SchemaNode]) -> [Bool] {
        var p = [Bool](repeating: false, count: nodes.count)
        var changed = true
        while changed {
            changed = false
            for i in nodes.indices where !p[i] {
                let ok: Bool
                switch nodes[i] {
                case let .union(alternatives): ok = alternatives.contains { p[Int($0)] }
                case let .object(rule):
                    ok = rule.values.indices.allSatisfy { !rule.required.contains($0) || (rule.values[$0] >= 0 && p[Int(rule.values[$0])]) }
                case let .array(rule):
                    ok = (0..<rule.minItems).allSatisfy { rule.item($0).map { p[Int($0)] } ?? false }
                default: ok = true
                }
                if ok {
                    p[i] = true
                    changed = true
                }
            }
        }
        return p
    }

    private func add(_ node: SchemaNode) throws -> Int32 {
        guard nodes.count < Self.maxNodes else { throw SchemaError.tooComplex("more than \(Self.maxNodes) schema nodes") }
        nodes.append(node)
        return Int32(nodes.count - 1)
    }

    // MARK: - Schemas

    /// The node of a subschema; nil when it admits nothing (`false`).
    func node(_ schema: JSONValue, path: String) throws -> Int32? {
        switch schema {
        case .bool(true): return try anyValue()
        case .bool(false): return nil
        case let .object(o): return try node(o, path: path)
        default: throw SchemaError.invalid("\(path) must be an object or a boolean")
        }
    }

    private func node(_ o: JSONObject, path: String) throws -> Int32? {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw SchemaError.tooComplex("schemas nested (or referring to each other) more than \(Self.maxDepth) deep")
        }
        if let ref = o["$ref"] {
            guard let pointer = ref.string else { throw SchemaError.invalid("\(path).$ref must be a string") }
            let siblings = o.filtered { $0 != "$ref" && !Self.annotations.contains($0) }
            if siblings.count == 0 { return try reference(pointer, path: path) }
            let target = try resolve(pointer, path: path)
            return try node(.object(try merge(target, siblings, path: path)), path: path)
        }
        if let all = o["allOf"] {
            guard let branches = all.array, !branches.isEmpty else { throw SchemaError.invalid("\(path).allOf must be a non-empty array") }
            var merged = o.filtered { $0 != "allOf" }
            for (i, b) in branches.enumerated() {
                switch b {
                case .bool(true): continue
                case .bool(false): return nil
                case let .object(bo): merged = try merge(merged, try dereferenced(bo, path: "\(path).allOf[\(i)]"), path: path)
                default: throw SchemaError.invalid("\(path).allOf[\(i)] must be a schema")
                }
            }
            return try node(.object(merged), path: path)
        }
        for key in ["anyOf", "oneOf"] {
            guard let value = o[key] else { continue }
            guard let branches = value.array, !branches.isEmpty else {
                throw SchemaError.invalid("\(path).\(key) must be a non-empty array")
            }
            let siblings = o.filtered { $0 != key && !Self.annotations.contains($0) }
            var alternatives: [Int32] = []
            for (i, b) in branches.enumerated() {
                let p = "\(path).\(key)[\(i)]"
                let branch: Int32?
                if siblings.count == 0 {
                    branch = try node(b, path: p)
                } else if case let .object(bo) = b {
                    branch = try node(.object(try merge(siblings, try dereferenced(bo, path: p), path: p)), path: p)
                } else {
                    branch = b == .bool(false) ? nil : try node(.object(siblings), path: p)
                }
                if let branch { alternatives.append(branch) }
            }
            return alternatives.isEmpty ? nil : try add(.union(alternatives))
        }
        try checkKeywords(o, path: path)
        return try typed(o, path: path)
    }

    private func checkKeywords(_ o: JSONObject, path: String) throws {
        for key in o.keys where Self.unenforced.contains(key) {
            if strict { throw SchemaError.unsupported(key, "'\(key)' (at \(path)) cannot be enforced during generation") }
        }
        if let f = o["format"] {
            guard let name = f.string else { throw SchemaError.invalid("\(path).format must be a string") }
            if strict && !Self.formats.contains(name) {
                throw SchemaError.unsupported(
                    "format", "format '\(name.prefix(40))' (at \(path)) cannot be enforced; supported: date-time, date, time, uuid, email")
            }
        }
    }

    /// A schema without $ref/allOf/anyOf at its top: one node per admitted type.
    private func typed(_ o: JSONObject, path: String) throws -> Int32? {
        var types: [String]
        switch o["type"] {
        case nil:
            types = Self.inferredTypes(o)
        case let .string(t)?:
            types = [t]
        case let .array(list)?:
            types = try list.map {
                guard let s = $0.string else { throw SchemaError.invalid("\(path).type must be a string or an array of strings") }; return s
            }
        default:
            throw SchemaError.invalid("\(path).type must be a string or an array of strings")
        }
        if o["nullable"] == .bool(true) && !types.contains("null") { types.append("null") }
        for t in types where !["null", "boolean", "integer", "number", "string", "object", "array"].contains(t) {
            throw SchemaError.invalid("\(path).type '\(t.prefix(40))' is not a JSON Schema type")
        }
        if types.contains("number") { types.removeAll { $0 == "integer" } }
        if let values = try enumValues(o, path: path) {
            return try literals(values, types: types, o, path: path)
        }
        var alternatives: [Int32] = []
        for t in types {
            switch t {
            case "null": alternatives.append(try literal("null"))
            case "boolean": alternatives += [try literal("true"), try literal("false")]
            case "integer": if let n = try integer(o, path: path) { alternatives.append(n) }
            case "number": if let n = try number(o, path: path) { alternatives.append(n) }
            case "string": if let n = try string(o, path: path) { alternatives.append(n) }
            case "object": if let n = try object(o, path: path) { alternatives.append(n) }
            default: if let n = try array(o, path: path) { alternatives.append(n) }
            }
        }
        if alternatives.isEmpty { return nil }
        return alternatives.count == 1 ? alternatives[0] : try add(.union(alternatives))
    }

    static func inferredTypes(_ o: JSONObject) -> [String] {
        var types: [String] = []
        if o.keys.contains(where: { ["properties", "required", "additionalProperties"].contains($0) }) { types.append("object") }
        if o.keys.contains(where: { ["items", "prefixItems", "minItems", "maxItems", "additionalItems"].contains($0) }) {
            types.append("array")
        }
        if o.keys.contains(where: { ["minLength", "maxLength", "pattern", "format"].contains($0) }) { types.append("string") }
        if o.keys.contains(where: { ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].contains($0) }) {
            types.append("number")
        }
        return types.isEmpty ? ["null", "boolean", "number", "string", "object", "array"] : types
    }

    private func enumValues(_ o: JSONObject, path: String) throws -> [JSONValue]? {
        var values: [JSONValue]?
        if let e = o["enum"] {
            guard let list = e.array else { throw SchemaError.invalid("\(path).enum must be an array") }
            values = list
        }
        if let c = o["const"] { values = (values ?? [c]).filter { $0 == c } }
        return values
    }

    /// An enum or const: the values the rest of the schema admits, strings as a trie of their
    /// characters (any spelling, escapes included), others as their exact compact JSON text.
    private func literals(_ values: [JSONValue], types: [String], _ o: JSONObject, path: String) throws -> Int32? {
        var strings: [[UInt8]] = []
        var alternatives: [Int32] = []
        var texts: Set<[UInt8]> = []
        let stringRule = types.contains("string") ? try stringDFA(o, path: path) : nil
        for v in values {
            switch v {
            case let .string(s):
                guard types.contains("string") else { continue }
                let bytes = Array(s.utf8)
                let count = s.unicodeScalars.count
                if count < (o["minLength"]?.int ?? 0) || count > (o["maxLength"]?.int ?? Int.max) { continue }
                if let dfa = stringRule, !Self.matches(dfa, bytes) { continue }
                if !strings.contains(bytes) { strings.append(bytes) }
            case .null where types.contains("null"), .bool where types.contains("boolean"):
                let text = Array(JSONWriter().string(v).utf8)
                if texts.insert(text).inserted { alternatives.append(try add(.literal(text))) }
            case .object where types.contains("object"), .array where types.contains("array"):
                if texts.insert(Array(JSONWriter().string(v).utf8)).inserted { alternatives.append(try constant(v)) }
            case let .number(text):
                guard let d = Double(text) else { continue }
                let isInteger = d.rounded() == d && !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" })
                guard types.contains("number") || (types.contains("integer") && isInteger) else { continue }
                if let rule = try numberRule(o, path: path), !rule.admits(d) { continue }
                if texts.insert(Array(text.utf8)).inserted { alternatives.append(try add(.literal(Array(text.utf8)))) }
            default: continue
            }
        }
        if !strings.isEmpty { alternatives.append(try oneOfStrings(strings)) }
        if alternatives.isEmpty { return nil }
        return alternatives.count == 1 ? alternatives[0] : try add(.union(alternatives))
    }

    /// A node admitting exactly `value`, written with any whitespace and, for objects, its
    /// keys in any order (numbers keep their literal text).
    private func constant(_ value: JSONValue) throws -> Int32 {
        switch value {
        case let .string(s):
            return try oneOfStrings([Array(s.utf8)])
        case let .array(items):
            let nodes = try items.map(constant)
            return try add(.array(ArrayRule(prefix: nodes, items: nil, minItems: nodes.count, maxItems: nodes.count)))
        case let .object(o):
            guard o.count <= Bits128.capacity else {
                throw SchemaError.tooComplex("a constant object of more than \(Bits128.capacity) members")
            }
            var required = Bits128()
            for k in 0..<o.count { required.insert(k) }
            return try add(.object(objectRule(names: o.keys, values: try o.values.map(constant), required: required, additional: nil)))
        default:
            return try add(.literal(Array(JSONWriter().string(value).utf8)))
        }
    }

    /// A string that is one of `values` (their characters, however escaped).
    private func oneOfStrings(_ values: [[UInt8]]) throws -> Int32 {
        dfas.append(ByteDFA.trie(values).dfa)
        return try add(.string(StringRule(dfa: Int32(dfas.count - 1))))
    }

    /// An object's rule, with the trie of its property names added to the automata.
    private func objectRule(names: [String], values: [Int32], required: Bits128, additional: Int32?) -> ObjectRule {
        let trie = ByteDFA.trie(names.map { Array($0.utf8) })
        dfas.append(trie.dfa)
        return ObjectRule(
            values: values, required: required, additional: additional, keys: Int32(dfas.count - 1),
            nameAt: trie.value, below: Self.below(trie))
    }

    /// For each trie state, the names whose spelling passes through it (children have higher
    /// indices than their parents).
    static func below(_ trie: (dfa: ByteDFA, value: [Int32])) -> [Bits128] {
        var below = trie.value.map { v -> Bits128 in
            var b = Bits128()
            if v >= 0 { b.insert(Int(v)) }
            return b
        }
        for s in stride(from: trie.dfa.stateCount - 1, through: 0, by: -1) {
            for i in Int(trie.dfa.edgeStart[s])..<Int(trie.dfa.edgeStart[s + 1]) {
                below[s] = below[s].union(below[Int(trie.dfa.edges[i].target)])
            }
        }
        return below
    }

    static func matches(_ dfa: ByteDFA, _ bytes: [UInt8]) -> Bool {
        var s: Int32 = 0
        for b in bytes {
            s = dfa.step(s, b)
            if s < 0 { return false }
        }
        return dfa.isAccepting(s)
    }

    private var literalNodes: [String: Int32] = [:]
    private func literal(_ text: String) throws -> Int32 {
        if let n = literalNodes[text] { return n }
        let n = try add(.literal(Array(text.utf8)))
        literalNodes[text] = n
        return n
    }

    private var anyNode: Int32?
    /// Any JSON value.
    func anyValue() throws -> Int32 {
        if let anyNode { return anyNode }
        let n = try add(.union([]))
        anyNode = n
        let object = try add(.object(objectRule(names: [], values: [], required: Bits128(), additional: n)))
        let array = try add(.array(ArrayRule(prefix: [], items: n, minItems: 0, maxItems: nil)))
        let alternatives = [
            try literal("null"), try literal("true"), try literal("false"), try add(.number(NumberRule())),
            try add(.string(StringRule())), object, array,
        ]
        nodes[Int(n)] = .union(alternatives)
        return n
    }

    // MARK: - Numbers

    /// The bound under `key` as a double and whether it is exclusive. A validator compares an
    /// integer bound exactly (Python's int against the number's float), so an integer bound
    /// that no double equals becomes its nearest double, exclusive when that double is on the
    /// side the bound forbids and inclusive when it is on the side the bound admits.
    private func bound(_ o: JSONObject, _ key: String, lower: Bool, exclusive: Bool, path: String) throws -> (Double, Bool)? {
        guard let v = o[key], !v.isNull else { return nil }
        if case .bool = v { return nil }  // Draft 4's exclusiveMinimum: true, read with minimum
        guard case let .number(text) = v, let d = Double(text), d.isFinite else {
            throw SchemaError.invalid("\(path).\(key) must be a number")
        }
        guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), abs(d) >= 0x1p53 else { return (d, exclusive) }
        // The sign of d - bound, from d's exact digits and the bound's.
        let digits = text.drop { $0 == "-" || $0 == "0" }.map { UInt8($0.asciiValue! - 48) }
        let own = ExactDecimal(magnitudeOf: d).integer.drop { $0 == 0 }
        let magnitudeOrder =
            own.count != digits.count
            ? (own.count < digits.count ? -1 : 1)
            : own.elementsEqual(digits) ? 0 : own.lexicographicallyPrecedes(digits) ? -1 : 1
        let difference = d < 0 ? -magnitudeOrder : magnitudeOrder
        if difference == 0 { return (d, exclusive) }
        // The double lies beyond the bound on the forbidden side or within it on the admitted.
        return (d, lower ? difference < 0 : difference > 0)
    }

    private func numberRule(_ o: JSONObject, path: String) throws -> NumberRule? {
        var r = NumberRule()
        let draft4Lower = o["exclusiveMinimum"] == .bool(true), draft4Upper = o["exclusiveMaximum"] == .bool(true)
        for (key, lower, exclusive) in [
            ("minimum", true, draft4Lower), ("exclusiveMinimum", true, true),
            ("maximum", false, draft4Upper), ("exclusiveMaximum", false, true),
        ] {
            guard let (v, exclusive) = try bound(o, key, lower: lower, exclusive: exclusive, path: path) else { continue }
            if lower, r.lo.map({ v > $0 || (v == $0 && exclusive) }) ?? true { (r.lo, r.loExclusive) = (v, exclusive) }
            if !lower, r.hi.map({ v < $0 || (v == $0 && exclusive) }) ?? true { (r.hi, r.hiExclusive) = (v, exclusive) }
        }
        return r
    }

    private func number(_ o: JSONObject, path: String) throws -> Int32? {
        guard var r = try numberRule(o, path: path) else { return nil }
        if r.bounded {
            let digits = NumberBounds(r)
            if digits.positive == nil && digits.negative == nil { return nil }
            r.digits = digits
        }
        return try add(.number(r))
    }

    private func integer(_ o: JSONObject, path: String) throws -> Int32? {
        guard let r = try numberRule(o, path: path) else { return nil }
        var rule = IntegerRule()
        if let lo = r.lo {
            var v = lo.rounded(.up)
            if r.loExclusive && v == lo { v += 1 }
            rule.lo = v <= -9.2e18 ? nil : v >= 9.2e18 ? Int64.max : Int64(v)
        }
        if let hi = r.hi {
            var v = hi.rounded(.down)
            if r.hiExclusive && v == hi { v -= 1 }
            rule.hi = v >= 9.2e18 ? nil : v <= -9.2e18 ? Int64.min : Int64(v)
        }
        // Exact integer bounds beyond a double's precision.
        if let m = o["minimum"]?.int, o["exclusiveMinimum"] == nil { rule.lo = Int64(m) }
        if let m = o["maximum"]?.int, o["exclusiveMaximum"] == nil { rule.hi = Int64(m) }
        if let lo = rule.lo, let hi = rule.hi, lo > hi { return nil }
        return try add(.integer(rule))
    }

    // MARK: - Strings

    private func length(_ o: JSONObject, _ key: String, path: String) throws -> Int? {
        guard let v = o[key], !v.isNull else { return nil }
        guard case let .number(text) = v, let d = Double(text), d >= 0, d.rounded() == d else {
            throw SchemaError.invalid("\(path).\(key) must be a non-negative integer")
        }
        return d > 1e9 ? 1_000_000_000 : Int(d)
    }

    /// The automaton of `pattern` and `format` (nil when there is neither).
    private func stringDFA(_ o: JSONObject, path: String) throws -> ByteDFA? {
        let pattern = o["pattern"]
        if let pattern, pattern.string == nil { throw SchemaError.invalid("\(path).pattern must be a string") }
        var format = o["format"]?.string
        if let f = format, !Self.formats.contains(f) { format = nil }
        if pattern != nil && format != nil {
            if strict { throw SchemaError.unsupported("pattern", "'pattern' together with 'format' (at \(path)) is not supported") }
            format = nil
        }
        if let p = pattern?.string { return try Pattern.compile(p) }
        if let f = format { return try Pattern.compile(Formats.pattern(f)) }
        return nil
    }

    private func string(_ o: JSONObject, path: String) throws -> Int32? {
        let minLength = try length(o, "minLength", path: path) ?? 0
        let maxLength = try length(o, "maxLength", path: path)
        if let maxLength, maxLength < minLength { return nil }
        // Automata by pattern, format and length bounds (free strings never enter the index).
        let key = "p:\(o["pattern"]?.string ?? "")|f:\(o["format"]?.string ?? "")|\(minLength)|\(maxLength ?? -1)"
        if let i = dfaIndex[key] { return try add(.string(StringRule(dfa: i))) }
        guard var dfa = try stringDFA(o, path: path) else {
            return try add(.string(StringRule(minLength: minLength, maxLength: maxLength)))
        }
        if minLength > 0 || maxLength != nil {
            guard let limited = try dfa.limitingLength(min: minLength, max: maxLength) else { return nil }
            dfa = limited
        }
        dfas.append(dfa)
        dfaIndex[key] = Int32(dfas.count - 1)
        return try add(.string(StringRule(dfa: Int32(dfas.count - 1))))
    }

    // MARK: - Objects and arrays

    private func object(_ o: JSONObject, path: String) throws -> Int32? {
        var names: [String] = []
        var values: [Int32] = []
        var schemas: [(String, JSONValue)] = []
        if let p = o["properties"] {
            guard let props = p.object else { throw SchemaError.invalid("\(path).properties must be an object") }
            schemas = Array(props)
        }
        var required = Bits128()
        var requiredNames: [String] = []
        if let r = o["required"] {
            guard let list = r.array, list.allSatisfy({ $0.string != nil }) else {
                throw SchemaError.invalid("\(path).required must be an array of strings")
            }
            requiredNames = list.map { $0.string! }
        }
        var additional: Int32?
        switch o["additionalProperties"] {
        case nil, .bool(true)?: additional = try anyValue()
        case let a?: additional = try node(a, path: "\(path).additionalProperties")
        }
        // Required names without a property schema take the schema of other keys.
        for name in requiredNames where !schemas.contains(where: { $0.0 == name }) {
            guard additional != nil else { return nil }
            schemas.append((name, .bool(true)))
        }
        guard schemas.count <= Bits128.capacity else {
            throw SchemaError.tooComplex("an object with more than \(Bits128.capacity) properties (at \(path))")
        }
        // The node for a property is compiled after the object's node exists (recursion).
        let index = try add(.union([]))
        for (k, (name, schema)) in schemas.enumerated() {
            names.append(name)
            let undeclared = schema == .bool(true) && !(o["properties"]?.object?.keys.contains(name) ?? false)
            values.append(undeclared ? (additional ?? -1) : try node(schema, path: "\(path).properties.\(name)") ?? -1)
            if requiredNames.contains(name) {
                if values[k] < 0 { return nil }
                required.insert(k)
            }
        }
        nodes[Int(index)] = .object(objectRule(names: names, values: values, required: required, additional: additional))
        return index
    }

    private func array(_ o: JSONObject, path: String) throws -> Int32? {
        var prefix: [Int32] = []
        var items: Int32? = try anyValue()
        var prefixSchemas: [JSONValue] = []
        if let p = o["prefixItems"] {
            guard let list = p.array else { throw SchemaError.invalid("\(path).prefixItems must be an array") }
            prefixSchemas = list
            if let i = o["items"] { items = try node(i, path: "\(path).items") }
        } else if let i = o["items"] {
            if let list = i.array {  // Draft 7 tuple
                prefixSchemas = list
                if let a = o["additionalItems"] { items = try node(a, path: "\(path).additionalItems") }
            } else {
                items = try node(i, path: "\(path).items")
            }
        }
        let minItems = try length(o, "minItems", path: path) ?? 0
        let maxItems = try length(o, "maxItems", path: path)
        if let maxItems, maxItems < minItems { return nil }
        let index = try add(.union([]))
        var maxAllowed = maxItems
        for (i, s) in prefixSchemas.enumerated() {
            guard let n = try node(s, path: "\(path).prefixItems[\(i)]") else {
                // An impossible position: the array must end before it.
                maxAllowed = min(maxAllowed ?? i, i)
                break
            }
            prefix.append(n)
        }
        if let m = maxAllowed, m < minItems { return nil }
        if prefix.count < prefixSchemas.count { items = nil }
        nodes[Int(index)] = .array(ArrayRule(prefix: prefix, items: items, minItems: minItems, maxItems: maxAllowed))
        return index
    }

    // MARK: - References and merging

    private func reference(_ pointer: String, path: String) throws -> Int32? {
        if let n = references[pointer] { return n }
        let placeholder = try add(.union([]))
        references[pointer] = placeholder
        let target = try resolve(pointer, path: path)
        if let n = try node(.object(target), path: pointer) { nodes[Int(placeholder)] = .union([n]) }
        return placeholder
    }

    /// The schema a local JSON pointer (`#`, `#/$defs/x`, `#/definitions/x`, …) names.
    func resolve(_ pointer: String, path: String) throws -> JSONObject {
        guard pointer.hasPrefix("#") else {
            throw SchemaError.unsupported(
                "$ref", "$ref '\(pointer.prefix(80))' (at \(path)): only references within the schema (#/…) are supported")
        }
        var at = document
        for raw in pointer.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                .removingPercentEncodingIfAny
            if let o = at.object, let next = o[token] {
                at = next
            } else if let a = at.array, let i = Int(token), a.indices.contains(i) {
                at = a[i]
            } else {
                throw SchemaError.invalid("$ref '\(pointer.prefix(80))' (at \(path)) does not resolve")
            }
        }
        switch at {
        case let .object(o): return o
        case .bool(true): return JSONObject()
        default: throw SchemaError.invalid("$ref '\(pointer.prefix(80))' (at \(path)) does not name a schema")
        }
    }

    /// `o` with a top-level $ref replaced by its target merged with the siblings.
    private func dereferenced(_ o: JSONObject, path: String) throws -> JSONObject {
        guard let ref = o["$ref"]?.string else { return o }
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { throw SchemaError.tooComplex("$refs nested more than \(Self.maxDepth) deep") }
        let target = try dereferenced(try resolve(ref, path: path), path: path)
        return try merge(target, o.filtered { $0 != "$ref" }, path: path)
    }

    /// One schema that admits exactly what both admit, for the keywords whose conjunction is
    /// again a keyword (allOf, $ref with siblings, anyOf with siblings).
    func merge(_ a: JSONObject, _ b: JSONObject, path: String) throws -> JSONObject {
        let a = try dereferenced(a, path: path), b = try dereferenced(b, path: path)
        var out = a
        for (key, bv) in b {
            guard let av = a[key] else { out[key] = bv; continue }
            if av == bv || Self.annotations.contains(key) { continue }
            switch key {
            case "type":
                func set(_ v: JSONValue) -> Set<String> { Set(v.string.map { [$0] } ?? v.array?.compactMap(\.string) ?? []) }
                var sa = set(av), sb = set(bv)
                if sa.contains("number") { sa.insert("integer") }
                if sb.contains("number") { sb.insert("integer") }
                out[key] = .array(sa.intersection(sb).sorted().map { .string($0) })
            case "required":
                var names = av.array ?? []
                for n in bv.array ?? [] where !names.contains(n) { names.append(n) }
                out[key] = .array(names)
            case "minimum", "exclusiveMinimum", "minLength", "minItems":
                out[key] = (av.double ?? -.infinity) >= (bv.double ?? -.infinity) ? av : bv
            case "maximum", "exclusiveMaximum", "maxLength", "maxItems":
                out[key] = (av.double ?? .infinity) <= (bv.double ?? .infinity) ? av : bv
            case "enum":
                out[key] = .array((av.array ?? []).filter { (bv.array ?? []).contains($0) })
            case "items", "additionalProperties":
                out[key] = .object(JSONObject(["allOf": .array([av, bv])]))
            case "properties", "anyOf", "oneOf", "allOf":
                break  // below
            default:
                throw SchemaError.unsupported(key, "'\(key)' given twice with different values (at \(path), from allOf or $ref)")
            }
        }
        if a["anyOf"] != nil || a["oneOf"] != nil, b["anyOf"] != nil || b["oneOf"] != nil {
            throw SchemaError.unsupported("anyOf", "allOf of two schemas that both have anyOf/oneOf (at \(path))")
        }
        // Properties: a key one side forbids (not declared, no additionalProperties) is forbidden.
        if a["properties"] != nil || b["properties"] != nil || a["additionalProperties"] != nil || b["additionalProperties"] != nil {
            let pa = a["properties"]?.object ?? JSONObject(), pb = b["properties"]?.object ?? JSONObject()
            var props = JSONObject()
            for name in pa.keys + pb.keys.filter({ !pa.keys.contains($0) }) {
                let sa = pa[name] ?? a["additionalProperties"] ?? .bool(true)
                let sb = pb[name] ?? b["additionalProperties"] ?? .bool(true)
                props[name] = sa == .bool(true) ? sb : sb == .bool(true) ? sa : .object(JSONObject(["allOf": .array([sa, sb])]))
            }
            out["properties"] = .object(props)
        }
        return out
    }
}

extension String {
    /// `%xx` escapes of a URI fragment decoded (JSON pointers in $ref are URI fragments).
    var removingPercentEncodingIfAny: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var it = Array(utf8)[...]
        while let c = it.popFirst() {
            if c == 0x25, it.count >= 2, let v = UInt8(String(decoding: it.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(v)
                it = it.dropFirst(2)
            } else {
                bytes.append(c)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension JSONObject {
    /// The members whose key `keep` accepts, in order.
    func filtered(_ keep: (String) -> Bool) -> JSONObject {
        var out = JSONObject()
        for (k, v) in self where keep(k) { out[k] = v }
        return out
    }
}
