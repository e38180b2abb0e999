import KimiJSON

/// Kimi K2's chat templates (the Jinja texts of K2-Instruct's tokenizer_config.json and of
/// K2-Thinking's chat_template.jinja, copied in Scripts/kimi-k2-chat-template.jinja and
/// Scripts/kimi-k2-thinking-chat-template.jinja), written out in Swift with Jinja's whitespace
/// and truthiness rules, rendering to a list of segments: markup the template writes
/// (`<|im_user|>`, `<|im_middle|>`, `<|im_end|>`, the tool-call markers, `<think>`) as control
/// tokens, and everything else as text. Rendering the segments' text gives exactly what jinja2
/// renders in Hugging Face's environment.
///
/// Departure from the template, following OpenAI's semantics: a `developer` message is
/// rendered as a `system` message (so it also counts as the system prompt when first).
public enum ChatTemplate {
    public static let defaultSystemPrompt = "You are Kimi, an AI assistant created by Moonshot AI."
    static let mediaPlaceholder = "<|media_start|>image<|media_content|><|media_pad|><|media_end|>\n"

    public enum Segment: Equatable, Sendable {
        /// Markup written by the template: one special token.
        case control(String)
        /// Text, from the client or the template: encoded as ordinary text, never as specials.
        case text(String)
    }

    /// A rendered prompt: its segments and their concatenation.
    public struct Prompt: Equatable, Sendable {
        public private(set) var segments: [Segment] = []

        public var text: String {
            segments.map { segment -> String in
                switch segment {
                case let .control(s), let .text(s): return s
                }
            }.joined()
        }

        mutating func control(_ s: String) { segments.append(.control(s)) }

        /// Appends text, merged with a preceding text segment so runs between two control tokens
        /// are encoded together. The segment is taken out of the array first so its string is
        /// uniquely referenced and grows in place: a message of many content parts costs linear
        /// time, not a copy of the run so far per part.
        mutating func text(_ s: String) {
            guard !s.isEmpty else { return }
            if case var .text(previous)? = segments.last {
                segments.removeLast()
                previous += s
                segments.append(.text(previous))
            } else {
                segments.append(.text(s))
            }
        }
    }

    /// Renders `messages` (OpenAI chat messages) and `tools` (the request's tools list, as sent)
    /// with template `kind`, with the generation prompt `<|im_assistant|>assistant<|im_middle|>`
    /// when asked. With `continuingFinalMessage` the last message is left open (no `<|im_end|>`
    /// after it and no generation prompt), so the model continues it: what the template renders
    /// with the final end marker cut off, as vLLM's `continue_final_message` does.
    ///
    /// K2-Thinking's template differs from K2-Instruct's in: the tool declarations' JSON
    /// separators (", " and ": " instead of none); the default system prompt, written whenever
    /// the first message is not a system message (also with no messages) and not followed by a
    /// newline; and every assistant turn opening with `<think>…</think>`, which holds the
    /// message's `reasoning_content` only after the last assistant answer without tool calls
    /// (the template drops the reasoning of earlier turns).
    public static func render(
        messages: [JSONValue], tools: JSONValue?, kind: Kind = .k2Instruct, addGenerationPrompt: Bool = true,
        continuingFinalMessage: Bool = false
    ) -> Prompt {
        let thinking = kind == .k2Thinking
        var p = Prompt()
        if let tools, truthy(tools) {
            p.control("<|im_system|>")
            p.text("tool_declare")
            p.control("<|im_middle|>")
            p.text(JSONWriter(compact: !thinking, pythonNumbers: true).string(tools))
            p.control("<|im_end|>")
        }
        if thinking && messages.first.map(role) != "system" { defaultSystemMessage(into: &p) }
        // Assistant turns after this index keep their reasoning (K2-Thinking).
        let lastAnswer = thinking ? messages.lastIndex { role($0) == "assistant" && !($0["tool_calls"].map(truthy) ?? false) } ?? -1 : -1
        for (i, message) in messages.enumerated() {
            let role = self.role(message)
            if !thinking && i == 0 && role != "system" {
                defaultSystemMessage(into: &p)
                p.text("\n")
            }
            let name = message["name"].flatMap { truthy($0) ? $0 : nil }
            let roleName = name.map(str) ?? role
            p.control(role == "user" ? "<|im_user|>" : role == "assistant" ? "<|im_assistant|>" : "<|im_system|>")
            p.text(roleName)
            p.control("<|im_middle|>")
            let calls = message["tool_calls"].flatMap { truthy($0) ? $0 : nil }
            if thinking && role == "assistant" {
                p.control("<think>")
                if i > lastAnswer { p.text(message["reasoning_content"].map(str) ?? "") }
                p.control("</think>")
                renderContent(message, into: &p)
                if let calls { renderToolCalls(calls, into: &p) }
            } else if role == "assistant", let calls {
                renderContent(message, into: &p)
                renderToolCalls(calls, into: &p)
            } else if role == "tool" {
                p.text("## Return of " + (message["tool_call_id"].map(str) ?? "") + "\n")
                renderContent(message, into: &p)
            } else {
                renderContent(message, into: &p)
            }
            if continuingFinalMessage && i == messages.count - 1 { return p }
            p.control("<|im_end|>")
        }
        if addGenerationPrompt {
            p.control("<|im_assistant|>")
            p.text("assistant")
            p.control("<|im_middle|>")
        }
        return p
    }

    static func defaultSystemMessage(into p: inout Prompt) {
        p.control("<|im_system|>")
        p.text("system")
        p.control("<|im_middle|>")
        p.text(defaultSystemPrompt)
        p.control("<|im_end|>")
    }

    /// The tool-call section of an assistant turn: each call's id and its arguments, a string
    /// as is, other JSON as Hugging Face's `tojson` writes it.
    static func renderToolCalls(_ calls: JSONValue, into p: inout Prompt) {
        p.control("<|tool_calls_section_begin|>")
        for call in calls.array ?? [] {
            p.control("<|tool_call_begin|>")
            p.text(call["id"].map(str) ?? "")
            p.control("<|tool_call_argument_begin|>")
            switch call["function"]?["arguments"] {
            case let .string(s)?: p.text(s)
            case let value?: p.text(JSONWriter(compact: false, pythonNumbers: true).string(value))
            case nil: break
            }
            p.control("<|tool_call_end|>")
        }
        p.control("<|tool_calls_section_end|>")
    }

    /// The message's role, with `developer` read as `system`.
    static func role(_ message: JSONValue) -> String {
        let role = message["role"].map(str) ?? ""
        return role == "developer" ? "system" : role
    }

    /// The template's render_content macro: a string as is; a list of parts as the parts' text
    /// with no separator, image parts as the media placeholder line.
    static func renderContent(_ message: JSONValue, into p: inout Prompt) {
        switch message["content"] {
        case let .string(s)?:
            p.text(s)
        case let .array(parts)?:
            for part in parts {
                let object = part.object
                if part["type"]?.string == "image" || object?["image"] != nil || object?["image_url"] != nil {
                    p.text(mediaPlaceholder)
                } else {
                    p.text(part["text"].map(str) ?? "")
                }
            }
        default:
            break
        }
    }

    /// Jinja truthiness.
    static func truthy(_ v: JSONValue) -> Bool {
        switch v {
        case .null: return false
        case let .bool(b): return b
        case let .number(n): return (Double(n) ?? 0) != 0
        case let .string(s): return !s.isEmpty
        case let .array(a): return !a.isEmpty
        case let .object(o): return o.count > 0
        }
    }

    /// Jinja's `{{ value }}` for the JSON a client can send: strings as is, others as Python
    /// would print them (`None`, `True`, numbers); containers as JSON.
    static func str(_ v: JSONValue) -> String {
        switch v {
        case let .string(s): return s
        case .null: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .number(n): return PythonNumber.format(n)
        default: return JSONWriter(compact: false, pythonNumbers: true).string(v)
        }
    }
}

extension Tokenizer {
    /// A rendered prompt's ids: control segments become their special ids, text segments are
    /// encoded as ordinary text (so a client typing "<|im_end|>" cannot forge a turn), each run
    /// with Kimi's long-input cuts. A control string this vocabulary has no special token for
    /// (`<think>` in a vocabulary without it) is text of the run around it, as Hugging Face's
    /// tokenizer reads it. On text without special-token strings this equals `encode(prompt.text)` with
    /// specials allowed.
    public func encode(prompt: ChatTemplate.Prompt) -> [Int] {
        var out: [Int] = [], run = ""
        for segment in prompt.segments {
            switch segment {
            case let .control(s):
                if let id = specialId(s) {
                    out += encodeOrdinary(run)
                    run = ""
                    out.append(id)
                } else {
                    run += s
                }
            case let .text(s):
                run += s
            }
        }
        return out + encodeOrdinary(run)
    }
}
