/// Splits a complete Kimi output into content and tool calls (spec §6.1): content is the text
/// outside the tool-call section with every stray marker removed; each `<|tool_call_begin|>`
/// opens a call whose id runs to `<|tool_call_argument_begin|>` and whose arguments (trimmed)
/// run to `<|tool_call_end|>`, or — tolerating missing end markers — to the next call, the
/// section's end, or the end of the output, where the call is reported incomplete.
public enum ToolCallParser {
    public struct Result: Equatable, Sendable {
        public var content: String
        public var toolCalls: [ToolCall]
    }

    public static func parse(_ output: String) -> Result {
        var content = ""
        var calls: [ToolCall] = []
        var rest = Substring(output)
        // Content up to the section (or a call that opens without one).
        while let (marker, range) = ToolCallMarker.first(in: rest) {
            content += rest[..<range.lowerBound]
            guard marker == .sectionBegin || marker == .callBegin else {  // a stray marker: dropped
                rest = rest[range.upperBound...]
                continue
            }
            // A call that opens without a section begins one; its marker stays in the section.
            var section = rest[(marker == .sectionBegin ? range.upperBound : range.lowerBound)...]
            var closed = false
            if let end = firstMarker(.sectionEnd, in: section) {
                rest = section[end.upperBound...]
                section = section[..<end.lowerBound]
                closed = true
            } else {
                rest = section[section.endIndex...]
            }
            calls += parseSection(section, closed: closed)
        }
        content += rest
        return Result(content: content, toolCalls: calls)
    }

    /// Calls inside one section's text. `closed`: the section ended with its end marker.
    static func parseSection(_ section: Substring, closed: Bool) -> [ToolCall] {
        var calls: [ToolCall] = []
        var chunks: [Substring] = []
        var rest = section
        while let begin = firstMarker(.callBegin, in: rest) {
            rest = rest[begin.upperBound...]
            let end = firstMarker(.callBegin, in: rest)?.lowerBound ?? rest.endIndex
            chunks.append(rest[..<end])
            rest = rest[end...]
        }
        for (i, chunk) in chunks.enumerated() {
            let last = i == chunks.count - 1
            let id: Substring, arguments: Substring
            var ended = !last || closed
            if let arg = firstMarker(.argumentBegin, in: chunk) {
                id = chunk[..<arg.lowerBound]
                var args = chunk[arg.upperBound...]
                if let end = firstMarker(.callEnd, in: args) {
                    args = args[..<end.lowerBound]
                    ended = true
                }
                arguments = args
            } else {
                var head = chunk
                if let end = firstMarker(.callEnd, in: head) { head = head[..<end.lowerBound] }
                id = head
                arguments = ""
                ended = false
            }
            let trimmedID = String(id.trimmingWhitespace())
            calls.append(ToolCall(id: trimmedID, name: ToolCall.name(fromID: trimmedID),
                                  arguments: String(arguments.trimmingWhitespace()), complete: ended))
        }
        return calls
    }

    static func firstMarker(_ marker: ToolCallMarker, in text: Substring) -> Range<Substring.Index>? {
        ToolCallMarker.first(marker, in: text)
    }
}
