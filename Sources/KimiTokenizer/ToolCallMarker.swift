/// The markers of Kimi's tool-call format. They are special tokens of the vocabulary: only
/// their special ids open and close sections and calls. The same characters can also be
/// spelled with ordinary tokens (a model echoing its input, text a user pasted); spelled so,
/// they are plain text.
public enum ToolCallMarker: Sendable, CaseIterable {
    case sectionBegin, sectionEnd, callBegin, argumentBegin, callEnd

    /// The special token's text.
    public var text: String {
        switch self {
        case .sectionBegin: return "<|tool_calls_section_begin|>"
        case .sectionEnd: return "<|tool_calls_section_end|>"
        case .callBegin: return "<|tool_call_begin|>"
        case .argumentBegin: return "<|tool_call_argument_begin|>"
        case .callEnd: return "<|tool_call_end|>"
        }
    }

    /// The marker a special token's text names: its own text, or the singular spelling of the
    /// section markers (`<|tool_call_section_begin|>`), for a vocabulary that has that as a
    /// special token (Kimi K2's does not, so there it can only be ordinary text).
    init?(specialText: String) {
        switch specialText {
        case "<|tool_call_section_begin|>": self = .sectionBegin
        case "<|tool_call_section_end|>": self = .sectionEnd
        default:
            guard let marker = Self.allCases.first(where: { $0.text == specialText }) else { return nil }
            self = marker
        }
    }
}

extension Tokenizer {
    /// The tool-call marker that token `id` is: one of the special ids named by a marker's text.
    /// Ordinary tokens are never markers, whatever their bytes.
    public func toolCallMarker(_ id: Int) -> ToolCallMarker? {
        guard id >= mergeableCount && id < vocabSize else { return nil }
        return ToolCallMarker(specialText: specialTexts[id - mergeableCount])
    }
}
