/// The `format`s the engine enforces, as patterns of the subset `Pattern` compiles. Each is
/// no wider than what Python's `jsonschema` FormatChecker accepts for it (so an output that
/// matches here validates there):
/// - `date`: RFC 3339 full-date, a real calendar date (leap years included), years 0001-9999
///   (Python's `date.fromisoformat`);
/// - `time`: RFC 3339 full-time, with an offset (`Z` or ±hh:mm), at most 9 fraction digits;
/// - `date-time`: a date, `T`, a time (RFC 3339, as `rfc3339-validator` reads it);
/// - `uuid`: 8-4-4-4-12 hex digits (jsonschema's `UUID(...)` plus the dash positions);
/// - `email`: a dot-atom local part, `@`, a dotted domain of DNS labels (jsonschema only
///   requires an `@`).
enum Formats {
    static let year = "(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
    static let leapYear = "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
    static let monthDay =
        "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    static let date = "(?:\(year)-\(monthDay)|\(leapYear)-02-29)"
    static let time = "(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
    static let atom = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
    static let label = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"

    static func pattern(_ format: String) -> String {
        switch format {
        case "date": return "^\(date)$"
        case "time": return "^\(time)$"
        case "date-time": return "^\(date)[Tt]\(time)$"
        case "uuid": return "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        default: return "^\(atom)(?:\\.\(atom))*@\(label)(?:\\.\(label))+$"
        }
    }
}
