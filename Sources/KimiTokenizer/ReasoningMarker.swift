/// Where a reasoning model's thinking starts and ends: `<think>` and `</think>`, special tokens of
/// Kimi-K2-Thinking's vocabulary, which its chat template writes around each assistant turn's
/// reasoning. Only their special ids mark reasoning; the same characters spelled with ordinary
/// tokens are text.
public enum ReasoningMarker: Sendable, CaseIterable {
    case begin, end

    /// The special token's text.
    public var text: String {
        switch self {
        case .begin: return "<think>"
        case .end: return "</think>"
        }
    }
}

extension Tokenizer {
    /// The reasoning marker that token `id` is: a special id named `<think>` or `</think>`.
    public func reasoningMarker(_ id: Int) -> ReasoningMarker? {
        guard id >= mergeableCount && id < vocabSize else { return nil }
        let text = specialTexts[id - mergeableCount]
        return ReasoningMarker.allCases.first { $0.text == text }
    }
}
