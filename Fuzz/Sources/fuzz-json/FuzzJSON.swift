import FuzzSupport
import KimiJSON

// JSONParser on arbitrary bytes. Beyond not crashing or hanging (nesting is capped at
// JSONParser.maxDepth), what the module documents must hold:
// - an error names a byte offset inside the input;
// - bytes that are valid UTF-8 parse the same way as the same text given as a String;
// - JSONWriter writes what the parser reads back as the same value, byte for byte (numbers
//   keep their literal text, objects their order, strings their scalars), compact or not, and
//   writing that again gives the same bytes;
// - PythonNumber writes a non-integer literal as digits that read back as the same Double.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let value: JSONValue
    do {
        value = try JSONParser.parse(bytes)
    } catch let error as JSONParser.Error {
        Fuzz.check((0...size).contains(error.offset), "error offset \(error.offset) outside 0...\(size)")
        if let text = String(validating: bytes, as: UTF8.self) {
            do {
                _ = try JSONParser.parse(text)
                Fuzz.fail("bytes were refused (\(error)) but the same text as a String parsed")
            } catch let stringError as JSONParser.Error {
                Fuzz.check(stringError == error, "bytes: \(error); String: \(stringError)")
            } catch {
                Fuzz.fail("unexpected error type \(type(of: error))")
            }
        }
        return 0
    } catch {
        Fuzz.fail("unexpected error type \(type(of: error))")
    }

    if let text = String(validating: bytes, as: UTF8.self) {
        let fromString = try? JSONParser.parse(text)
        Fuzz.check(fromString.map { identical($0, value) } ?? false, "bytes and String parse differently")
    }

    for compact in [true, false] {
        let written = JSONWriter(compact: compact).string(value)
        let reread: JSONValue
        do { reread = try JSONParser.parse(written) } catch {
            Fuzz.fail("JSONWriter(compact: \(compact)) wrote text the parser refuses (\(error)): \(Fuzz.show(written))")
        }
        Fuzz.check(identical(reread, value), "JSONWriter(compact: \(compact)) round trip changed the value: \(Fuzz.show(written))")
        let rewritten = JSONWriter(compact: compact).string(reread)
        Fuzz.check(
            Array(rewritten.utf8) == Array(written.utf8),
            "writing the re-read value gave other bytes: \(Fuzz.show(written)) then \(Fuzz.show(rewritten))")
    }

    checkNumbers(value)
    return 0
}

/// Equal to the byte: JSONValue's == compares strings and keys as Swift does, up to canonical
/// equivalence (precomposed "é" equals "e" + U+0301), which would hide a writer that normalised.
private func identical(_ a: JSONValue, _ b: JSONValue) -> Bool {
    switch (a, b) {
    case (.null, .null): return true
    case let (.bool(x), .bool(y)): return x == y
    case let (.number(x), .number(y)), let (.string(x), .string(y)): return x.utf8.elementsEqual(y.utf8)
    case let (.array(x), .array(y)): return x.count == y.count && zip(x, y).allSatisfy { identical($0, $1) }
    case let (.object(x), .object(y)):
        return x.count == y.count && zip(x.keys, y.keys).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
            && zip(x.values, y.values).allSatisfy { identical($0, $1) }
    default: return false
    }
}

/// Every number literal in `value`: PythonNumber keeps the value of non-integer literals.
private func checkNumbers(_ value: JSONValue) {
    switch value {
    case let .number(literal):
        let python = PythonNumber.format(literal)
        if literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            guard let d = Double(literal) else { Fuzz.fail("Double() refuses the JSON number \(literal)") }
            guard let p = Double(python) else { Fuzz.fail("PythonNumber wrote \(python) for \(literal)") }
            Fuzz.check(p.bitPattern == d.bitPattern, "PythonNumber wrote \(python) for \(literal) (\(d))")
        } else {
            Fuzz.check(python == literal || (python == "0" && literal == "-0"), "PythonNumber changed the integer \(literal) to \(python)")
        }
    case let .array(items):
        items.forEach(checkNumbers)
    case let .object(object):
        object.values.forEach(checkNumbers)
    case .null, .bool, .string:
        break
    }
}
