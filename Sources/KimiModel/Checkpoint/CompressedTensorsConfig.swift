import Foundation
import KimiJSON
import KimiKernels

/// A `quantization_config` with `quant_method: "compressed-tensors"` (the format of the
/// `compressed-tensors` package, which vLLM and transformers read): config groups, each a
/// weight scheme for the modules its `targets` match, and an `ignore` list of modules kept
/// unquantised. Supported schemes: "pack-quantized" symmetric int4 with group or channel scales
/// (Kimi-K2-Thinking's format; w4a16), and "float-quantized" fp8 e4m3 with 128×128 block scales
/// (DeepSeek's block-fp8 under compressed-tensors' names), so that the two mix in one checkpoint.
public struct CompressedTensorsConfig: Sendable, Equatable {
    public enum Scheme: Sendable, Equatable {
        /// `weight_packed` I32 [rows, ceil(cols/8)], `weight_scale` BF16/F16/F32 [rows, cols /
        /// groupSize] (channel strategy: groupSize nil, one scale per row), `weight_shape` [2].
        case int4(groupSize: Int?)
        /// `weight` F8_E4M3 with an F32 `weight_scale` [ceil(rows/128), ceil(cols/128)].
        case fp8Block
    }

    /// One entry of a group's `targets` or of `ignore`: a module name, a "re:"-prefixed regular
    /// expression matched from a name's start, or "Linear" (every linear layer), as
    /// compressed-tensors matches them. Sendable: the compiled expression is immutable.
    public struct Target: Equatable, @unchecked Sendable {
        public let text: String
        private let regex: NSRegularExpression?

        init(_ text: String, at key: String) throws {
            self.text = text
            if text.hasPrefix("re:") {
                do { regex = try NSRegularExpression(pattern: String(text.dropFirst(3))) } catch {
                    throw ConfigError(key: key, reason: "holds an invalid regular expression: \(text)")
                }
            } else {
                regex = nil
            }
        }

        /// How specifically this target names `module`, as compressed-tensors ranks its matches:
        /// 0 the exact name, 1 a regular expression, 2 the class ("Linear"); nil if it does not.
        func rank(_ module: String) -> Int? {
            if let regex {
                return regex.firstMatch(in: module, options: .anchored, range: NSRange(module.startIndex..., in: module)) == nil ? nil : 1
            }
            return text == module ? 0 : text == "Linear" ? 2 : nil
        }

        public static func == (a: Target, b: Target) -> Bool { a.text == b.text }
    }

    public struct Group: Sendable, Equatable {
        public let name: String
        public let targets: [Target]
        public let scheme: Scheme
    }

    public let groups: [Group]
    public let ignore: [Target]

    /// The scheme of the linear layer `module` (a weight's name without ".weight"): nil when
    /// `ignore` lists it or no group targets it (stored unquantised). Where several targets
    /// match, compressed-tensors' order decides: an exact name before a regular expression
    /// (those in the order of their text) before the class; a target repeated in a later
    /// group takes that group's scheme.
    public func scheme(forModule module: String) -> Scheme? {
        if ignore.contains(where: { $0.rank(module) != nil }) { return nil }
        var best: (rank: Int, text: String, scheme: Scheme)?
        for group in groups {
            for target in group.targets {
                guard let rank = target.rank(module) else { continue }
                if let b = best, (b.rank, b.text) < (rank, target.text) { continue }
                best = (rank, target.text, group.scheme)
            }
        }
        return best?.scheme
    }

    /// Reads and validates the config; an unsupported scheme is a `ConfigError` naming its key.
    init(_ q: JSONValue) throws {
        let key = "quantization_config"
        let topFormat = q["format"]?.string
        if let kv = q["kv_cache_scheme"], !kv.isNull {
            throw ConfigError(key: "\(key).kv_cache_scheme", reason: "is set; quantised KV caches are not supported")
        }
        guard let groupsObject = q["config_groups"]?.object, groupsObject.count > 0 else {
            throw ConfigError(key: "\(key).config_groups", reason: "must be a non-empty object")
        }
        groups = try groupsObject.keys.sorted().map { name in
            let g = groupsObject[name]!, at = "\(key).config_groups.\(name)"
            guard let list = g["targets"]?.array, !list.isEmpty, list.allSatisfy({ $0.string != nil }) else {
                throw ConfigError(key: "\(at).targets", reason: "must be a non-empty list of strings")
            }
            let targets = try list.map { try Target($0.string!, at: "\(at).targets") }
            if let a = g["input_activations"], !a.isNull {
                throw ConfigError(key: "\(at).input_activations", reason: "is set; only weight-only quantisation is supported")
            }
            if let a = g["output_activations"], !a.isNull {
                throw ConfigError(key: "\(at).output_activations", reason: "is set; only weight-only quantisation is supported")
            }
            guard let w = g["weights"], w.object != nil else {
                throw ConfigError(key: "\(at).weights", reason: "must be an object")
            }
            let format = g["format"]?.string ?? topFormat
            return Group(name: name, targets: targets, scheme: try Self.scheme(w, format: format, at: at))
        }
        ignore = try (q["ignore"]?.array ?? []).map { entry in
            guard let s = entry.string else { throw ConfigError(key: "\(key).ignore", reason: "must be a list of strings") }
            return try Target(s, at: "\(key).ignore")
        }
    }

    private static func scheme(_ w: JSONValue, format: String?, at: String) throws -> Scheme {
        func string(_ k: String) -> String? { w[k]?.string }
        func fail(_ k: String, _ reason: String) -> ConfigError { ConfigError(key: "\(at).weights.\(k)", reason: reason) }
        let bits = w["num_bits"]?.int, type = string("type"), strategy = string("strategy")
        guard w["symmetric"]?.bool ?? true else { throw fail("symmetric", "is false; only symmetric quantisation is supported") }
        if w["dynamic"]?.bool == true { throw fail("dynamic", "is true; only static weight scales are supported") }
        if let order = string("actorder"), order != "static" {
            throw fail("actorder", "is \"\(order)\"; activation reordering (weight_g_idx) is not supported")
        }
        switch (bits, type) {
        case (4, "int"):
            guard format == "pack-quantized" else {
                throw ConfigError(
                    key: "\(at).format", reason: "is \(format.map { "\"\($0)\"" } ?? "missing"); int4 weights must be \"pack-quantized\"")
            }
            switch strategy {
            case "group":
                guard let size = w["group_size"]?.int, size > 0, size % int4GroupMultiple == 0 else {
                    throw fail("group_size", "must be a positive multiple of \(int4GroupMultiple)")
                }
                return .int4(groupSize: size)
            case "channel": return .int4(groupSize: nil)
            default: throw fail("strategy", "is \(strategy.map { "\"\($0)\"" } ?? "missing"); int4 needs \"group\" or \"channel\"")
            }
        case (8, "float"):
            guard format == "float-quantized" else {
                throw ConfigError(
                    key: "\(at).format", reason: "is \(format.map { "\"\($0)\"" } ?? "missing"); fp8 weights must be \"float-quantized\"")
            }
            guard strategy == "block", w["block_structure"]?.array?.compactMap(\.int) == [fp8Block, fp8Block] else {
                throw fail("block_structure", "must be [\(fp8Block), \(fp8Block)] with strategy \"block\"")
            }
            return .fp8Block
        default:
            throw fail(
                "num_bits",
                "is \(bits.map(String.init) ?? "missing") with type \(type.map { "\"\($0)\"" } ?? "missing"); supported: 4-bit int, 8-bit float"
            )
        }
    }
}
