import Foundation

/// `serve` options from the environment: `KIMI_<OPTION>` (dashes as underscores) for every
/// option not given on the command line. Repeatable options take comma-separated values,
/// booleans 1/0/true/false. Applied to the arguments before parsing, so flags always win.
public enum EnvironmentOptions {
    /// A value option, a plain flag, or a flag with a --no- form (false appends it).
    public enum Kind: Sendable { case value, flag, toggle }

    public static let serve: [(option: String, kind: Kind)] = [
        ("model", .value), ("host", .value), ("port", .value), ("served-model-name", .value), ("api-key", .value),
        ("api-key-file", .value), ("allowed-origins", .value), ("guided-tools", .value), ("max-connections", .value),
        ("body-timeout", .value), ("max-model-len", .value), ("kv-cache-dtype", .value), ("kv-cache-gib", .value),
        ("max-queued", .value), ("prefill-chunk", .value), ("max-running", .value), ("prefix-caching", .toggle), ("threads", .value),
        ("shutdown-timeout", .value),
        ("preload", .toggle), ("numa", .value), ("log-level", .value), ("log-format", .value), ("log-prompts", .flag),
    ]

    static func variable(for option: String) -> String {
        "KIMI_" + option.uppercased().replacingOccurrences(of: "-", with: "_")
    }

    /// `arguments` (after the subcommand name) with the environment's options appended.
    public static func apply(
        _ arguments: [String], options: [(option: String, kind: Kind)],
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> [String] {
        var out = arguments
        for (option, kind) in options {
            let flag = "--" + option
            guard let value = environment[variable(for: option)],
                !arguments.contains(where: { $0 == flag || $0.hasPrefix(flag + "=") || $0 == "--no-" + option })
            else { continue }
            switch kind {
            case .value:
                out += [flag, value]
            case .flag, .toggle:
                switch value.lowercased() {
                case "1", "true", "yes", "on": out.append(flag)
                case "0", "false", "no", "off", "": if kind == .toggle { out.append("--no-" + option) }
                default: throw EnvironmentError(variable: variable(for: option), value: value)
                }
            }
        }
        return out
    }

    struct EnvironmentError: Error, CustomStringConvertible {
        let variable: String
        let value: String
        var description: String { "\(variable)=\(value) is not a boolean (use 1/0/true/false)" }
    }
}
