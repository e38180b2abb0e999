/// Python's rendering of a JSON number after `json.loads`: integer literals become `int` (any
/// size, `-0` is `0`); others become `float`, written by `repr` — the shortest digits that
/// round-trip, positional when the decimal exponent is in [-4, 16), else `d.ddde±XX`.
public enum PythonNumber {
    public static func format(_ literal: String) -> String {
        if !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
            return literal.allSatisfy({ $0 == "-" || $0 == "0" }) ? "0" : literal
        }
        guard let value = Double(literal) else { return literal }
        return repr(value)
    }

    /// `float.__repr__`.
    public static func repr(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value < 0 ? "-Infinity" : "Infinity" }
        let sign = value.sign == .minus ? "-" : ""
        // Swift's description is also the shortest round-trip digit string; only its layout differs.
        let text = "\(abs(value))"
        let parts = text.split(separator: "e", maxSplits: 1)
        let exponent = parts.count == 2 ? Int(parts[1])! : 0
        let mantissa = parts[0].split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let integer = String(mantissa[0]), fraction = mantissa.count == 2 ? String(mantissa[1]) : ""
        var digits = Array(integer + fraction)
        var point = integer.count + exponent  // value = 0.d1d2… × 10^point
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        if digits.isEmpty { return sign + "0.0" }
        let d = String(digits)
        if point > 16 || point <= -4 {
            let e = point - 1
            let mantissaText = d.count == 1 ? d : "\(d.first!).\(d.dropFirst())"
            let expDigits = String(abs(e))
            return sign + mantissaText + "e" + (e < 0 ? "-" : "+") + (expDigits.count < 2 ? "0" + expDigits : expDigits)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + d }
        if point < d.count { return sign + d.prefix(point) + "." + d.dropFirst(point) }
        return sign + d + String(repeating: "0", count: point - d.count) + ".0"
    }
}
