/// Splits a complete output into reasoning, content and tool calls: the streaming parser's
/// events over all of its pieces, folded into the message they describe, so a streamed answer
/// and a whole one always agree.
public enum ToolCallParser {
    public struct Result: Equatable, Sendable {
        /// The text of the output's reasoning; nil when it had none.
        public var reasoning: String?
        public var content: String
        public var toolCalls: [ToolCall]

        public init(reasoning: String?, content: String, toolCalls: [ToolCall]) {
            self.reasoning = reasoning
            self.content = content
            self.toolCalls = toolCalls
        }
    }

    public static func parse(_ pieces: [OutputPiece]) -> Result {
        var parser = StreamingToolCallParser()
        return StreamingToolCallParser.collect(parser.feed(pieces) + parser.finish())
    }
}
