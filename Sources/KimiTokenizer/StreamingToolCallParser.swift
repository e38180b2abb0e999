/// The tool-call parser fed output pieces as the engine streams them. It yields reasoning and
/// content, then per call its id and name once, then argument fragments, then its end. Only
/// marker pieces (the markers' special tokens) open and close reasoning, sections and calls;
/// text is never searched for marker characters. Reasoning is the text between `<think>` and
/// `</think>` (or the opening of a tool-call section, which ends it too, or the end of the
/// output); content is the text outside reasoning and sections; stray markers are dropped. Each
/// `callBegin` marker opens a call whose id runs to `argumentBegin` and whose arguments
/// (trimmed) run to `callEnd`, or, tolerating a missing end marker, to the next call, the
/// section's end or the end of the output, where the call is reported incomplete. A call that
/// opens without a section opens one. Trailing whitespace of arguments is held back until
/// something follows it (arguments are trimmed).
public struct StreamingToolCallParser {
    public enum Event: Equatable, Sendable {
        case reasoning(String)
        case content(String)
        case callBegin(index: Int, id: String, name: String)
        case arguments(index: Int, fragment: String)
        case callEnd(index: Int, complete: Bool)
    }

    enum State: Equatable {
        case content
        /// After <think>.
        case reasoning
        /// Inside the section, between calls.
        case section
        /// After <|tool_call_begin|>, collecting the id.
        case id
        /// After <|tool_call_argument_begin|>; `started` once a non-blank character came.
        case arguments(started: Bool)
    }

    private var state = State.content
    private var id = ""
    private var heldWhitespace = ""
    private var callCount = 0

    public init() {}

    /// Events completed by these pieces.
    public mutating func feed(_ pieces: [OutputPiece]) -> [Event] {
        var events: [Event] = []
        for piece in pieces {
            switch piece {
            case let .text(text): take(text, into: &events)
            case let .marker(marker):
                if state == .reasoning { state = .content }  // a section (or a call) ends the reasoning
                transition(marker, into: &events)
            case .reasoning(.begin):
                if state == .content { state = .reasoning }
            case .reasoning(.end):
                if state == .reasoning { state = .content }
            }
        }
        return events
    }

    /// Ends the output: a call still open is reported incomplete.
    public mutating func finish() -> [Event] {
        var events: [Event] = []
        switch state {
        case .id:
            beginCall(into: &events)
            events.append(.callEnd(index: callCount - 1, complete: false))
        case .arguments:
            events.append(.callEnd(index: callCount - 1, complete: false))
        case .content, .reasoning, .section:
            break
        }
        state = .content
        return events
    }

    /// Text, in the current state.
    private mutating func take(_ text: String, into events: inout [Event]) {
        guard !text.isEmpty else { return }
        switch state {
        case .content:
            events.append(.content(text))
        case .reasoning:
            events.append(.reasoning(text))
        case .section:
            break  // between calls: only whitespace is expected; anything else is dropped
        case .id:
            id += text
        case let .arguments(started):
            var scalars = text.unicodeScalars[...]
            if !started {
                scalars = scalars.drop { $0.isSpace }
                guard !scalars.isEmpty else { return }
                state = .arguments(started: true)
            }
            // Hold trailing whitespace until something follows it.
            guard let last = scalars.lastIndex(where: { !$0.isSpace }) else {
                heldWhitespace += String(Substring(scalars))
                return
            }
            let end = scalars.index(after: last)
            events.append(.arguments(index: callCount - 1, fragment: heldWhitespace + String(Substring(scalars[..<end]))))
            heldWhitespace = String(Substring(scalars[end...]))
        }
    }

    private mutating func transition(_ marker: ToolCallMarker, into events: inout [Event]) {
        switch (state, marker) {
        case (.content, .sectionBegin):
            state = .section
        case (.content, .callBegin), (.section, .callBegin):
            state = .id
            id = ""
        case (.id, .argumentBegin):
            beginCall(into: &events)
            state = .arguments(started: false)
        case (.id, .callBegin):  // a call with no arguments marker, then the next call
            beginCall(into: &events)
            events.append(.callEnd(index: callCount - 1, complete: false))
            state = .id
            id = ""
        case (.id, .callEnd), (.id, .sectionEnd):
            beginCall(into: &events)
            events.append(.callEnd(index: callCount - 1, complete: false))
            state = marker == .callEnd ? .section : .content
        case (.arguments, .callEnd):
            endCall(into: &events)
            state = .section
        case (.arguments, .callBegin):  // <|tool_call_end|> missing
            endCall(into: &events)
            state = .id
            id = ""
        case (.arguments, .sectionEnd):  // <|tool_call_end|> missing
            endCall(into: &events)
            state = .content
        case (.section, .sectionEnd):
            state = .content
        default:
            break  // a stray marker: dropped
        }
    }

    private mutating func beginCall(into events: inout [Event]) {
        let trimmed = String(id.trimmingWhitespace())
        events.append(.callBegin(index: callCount, id: trimmed, name: ToolCall.name(fromID: trimmed)))
        callCount += 1
        id = ""
    }

    private mutating func endCall(into events: inout [Event]) {
        heldWhitespace = ""
        events.append(.callEnd(index: callCount - 1, complete: true))
    }
}

extension StreamingToolCallParser {
    /// Folds events into the message they describe (reasoning, content and calls), as a client
    /// would.
    public static func collect(_ events: [Event]) -> ToolCallParser.Result {
        var result = ToolCallParser.Result(reasoning: nil, content: "", toolCalls: [])
        for event in events {
            switch event {
            case let .reasoning(text): result.reasoning = (result.reasoning ?? "") + text
            case let .content(text): result.content += text
            case let .callBegin(_, id, name): result.toolCalls.append(ToolCall(id: id, name: name, arguments: "", complete: false))
            case let .arguments(index, fragment): result.toolCalls[index].arguments += fragment
            case let .callEnd(index, complete): result.toolCalls[index].complete = complete
            }
        }
        return result
    }
}
