/// Splits a complete output into content and tool calls: the streaming parser's events over
/// all of its pieces, folded into the message they describe, so a streamed answer and a whole
/// one always agree.
public enum ToolCallParser {
    public struct Result: Equatable, Sendable {
        public var content: String
        public var toolCalls: [ToolCall]
    }

    public static func parse(_ pieces: [OutputPiece]) -> Result {
        var parser = StreamingToolCallParser()
        return StreamingToolCallParser.collect(parser.feed(pieces) + parser.finish())
    }
}
