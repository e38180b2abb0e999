import Foundation
import KimiJSON

extension ChatTemplate {
    /// Which of Kimi K2's chat templates prompts are rendered with.
    public enum Kind: String, Sendable, CaseIterable {
        /// Kimi-K2-Instruct's (Scripts/kimi-k2-chat-template.jinja).
        case k2Instruct = "k2-instruct"
        /// Kimi-K2-Thinking's (Scripts/kimi-k2-thinking-chat-template.jinja).
        case k2Thinking = "k2-thinking"

        /// The template a checkpoint declares and how it was read.
        public struct Detection: Equatable, Sendable {
            public let kind: Kind
            /// Why the template is rendered as `kind` when it is not one recognised byte for byte.
            public let note: String?

            public init(kind: Kind, note: String?) {
                self.kind = kind
                self.note = note
            }
        }

        /// The template of the checkpoint in `directory`: its `chat_template.jinja`, else
        /// tokenizer_config.json's `chat_template` (a string, or a list of named templates of
        /// which the one named "default" counts). K2-Instruct's and K2-Thinking's texts are
        /// recognised byte for byte, and a checkpoint without a template reads as K2-Instruct.
        /// Any other text is rendered as K2-Thinking's if it writes `<think>`, else as
        /// K2-Instruct's, and `note` says so.
        public static func detect(directory: String) throws -> Detection {
            let jinjaPath = (directory as NSString).appendingPathComponent("chat_template.jinja")
            if let data = FileManager.default.contents(atPath: jinjaPath) {
                return detect(template: String(decoding: data, as: UTF8.self), source: "chat_template.jinja")
            }
            let configPath = (directory as NSString).appendingPathComponent("tokenizer_config.json")
            guard let configData = FileManager.default.contents(atPath: configPath) else { throw TokenizerError.missingFile(configPath) }
            let config: JSONValue
            do {
                config = try JSONParser.parse([UInt8](configData))
            } catch {
                throw TokenizerError.invalidConfig(file: "tokenizer_config.json", reason: "not valid JSON: \(error)")
            }
            switch config["chat_template"] {
            case nil, .null?:
                return Detection(kind: .k2Instruct, note: nil)
            case let .string(text)?:
                return detect(template: text, source: "tokenizer_config.json")
            case let .array(templates)?:
                guard let text = templates.first(where: { $0["name"]?.string == "default" })?["template"]?.string else {
                    throw TokenizerError.invalidConfig(
                        file: "tokenizer_config.json", reason: "chat_template: a list without a template named \"default\"")
                }
                return detect(template: text, source: "tokenizer_config.json")
            default:
                throw TokenizerError.invalidConfig(
                    file: "tokenizer_config.json", reason: "chat_template: must be a string or a list of named templates")
            }
        }

        /// The kind of template `text` (read from `source`).
        static func detect(template text: String, source: String) -> Detection {
            if let kind = allCases.first(where: { $0.fingerprint == fingerprint(text) }) { return Detection(kind: kind, note: nil) }
            let kind: Kind = text.contains("<think>") ? .k2Thinking : .k2Instruct
            return Detection(
                kind: kind,
                note:
                    "the chat template in \(source) is neither Kimi-K2-Instruct's nor Kimi-K2-Thinking's; prompts are rendered as \(kind.rawValue)'s (it \(kind == .k2Thinking ? "writes" : "does not write") <think>)"
            )
        }

        /// FNV-1a (64-bit) of the template's UTF-8 text without its trailing newlines (which
        /// render nothing, and which a copy in tokenizer_config.json may lack).
        var fingerprint: UInt64 {
            switch self {
            case .k2Instruct: return 0xC6D8_FE47_3B39_6A70
            case .k2Thinking: return 0xAAFA_7D2F_AB38_EACE
            }
        }

        static func fingerprint(_ text: String) -> UInt64 {
            var hash: UInt64 = 0xCBF2_9CE4_8422_2325
            var bytes = Array(text.utf8)[...]
            while bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            return hash
        }
    }
}
