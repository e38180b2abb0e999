import Foundation
import KimiJSON

/// A `POST /v1/messages` body (Anthropic Messages), validated under Anthropic's field names and
/// translated into the chat request that every wire format shares, so that prompts, grammars
/// and tool parsing are the chat endpoint's own.
///
/// - `system` (a string or text blocks, joined by blank lines) becomes the system message.
/// - A user turn's `tool_result` blocks become `tool` messages (before its other blocks), its
///   text blocks a user message; an assistant turn's `tool_use` blocks become `tool_calls`, with
///   `input` as the arguments' JSON text.
/// - `tool_choice` `auto` / `any` / `tool` / `none` become `auto` / `required` / the named
///   function / `none`; `disable_parallel_tool_use` becomes `parallel_tool_calls: false`.
/// - `temperature` (0 to 1) is multiplied by 0.6, as Moonshot documents for Kimi K2 behind its
///   Anthropic-compatible API; `stop_sequences`, `top_p` and `top_k` carry over.
/// - `output_config.format` (`json_schema`, Anthropic's structured outputs) becomes a strict
///   `response_format`: the text is JSON valid against the schema by construction.
/// - Accepted without effect: `metadata`, `output_config.effort`, `cache_control` (top-level,
///   on any block or tool), an assistant turn's `redacted_thinking` blocks, a `tool_result`'s
///   `is_error` (Kimi's template has no place for it), `anthropic-version` and `anthropic-beta`
///   headers.
/// - `thinking` `{"type": "enabled", …}` returns a reasoning model's thinking as `thinking`
///   blocks (`include_reasoning`; otherwise it is left out); `budget_tokens` has no effect. An
///   assistant turn's `thinking` blocks become its `reasoning_content`, which K2-Thinking's
///   template renders.
/// - A final assistant turn is a prefill: the answer continues it (partial mode).
/// - Refused with a 400: images and documents (the model reads text only) and server tools
///   (`type` other than `custom`).
struct AnthropicRequest {
    /// The equivalent chat completions body.
    let chat: JSONValue
    let stream: Bool

    /// Moonshot: "real_temperature = request_temperature * 0.6" for its Anthropic-compatible API.
    static let temperatureScale = 0.6
    static let maxStopSequences = 4

    /// `counting`: for count_tokens, where `max_tokens` is not needed.
    init(json body: JSONValue, counting: Bool = false) throws {
        guard let o = body.object else { throw APIError.invalid("", "the request body must be a JSON object", code: "invalid_json") }
        var chat = JSONObject()
        if let m = o["model"], !m.isNull {
            guard m.string != nil else { throw APIError.invalid("model", "model: must be a string") }
            chat["model"] = m
        }
        if !counting {
            guard let max = o["max_tokens"], !max.isNull else { throw APIError.invalid("max_tokens", "max_tokens: Field required") }
            guard case let .number(text) = max, let n = Int(text), n >= 1 else {
                throw APIError.invalid("max_tokens", "max_tokens: must be an integer of at least 1")
            }
            chat["max_tokens"] = JSONValue(n)
        }

        var messages: [JSONValue] = []
        if let system = o["system"], !system.isNull {
            messages.append(.object(JSONObject(["role": .string("system"), "content": .string(try Self.text(system, path: "system"))])))
        }
        guard let turns = o["messages"]?.array else { throw APIError.invalid("messages", "messages: Field required (an array of turns)") }
        guard !turns.isEmpty else { throw APIError.invalid("messages", "messages: must hold at least one turn") }
        for (i, turn) in turns.enumerated() {
            messages += try Self.translate(turn, path: "messages.\(i)")
        }
        // A final assistant turn is a prefill, which the answer continues.
        if turns.last?["role"]?.string == "assistant" {
            guard var final = messages.last?.object, final["tool_calls"] == nil else {
                throw APIError.invalid("messages", "messages: a final assistant turn (prefill) may hold text only")
            }
            final["partial"] = .bool(true)
            messages[messages.count - 1] = .object(final)
        }
        chat["messages"] = .array(messages)

        if let tools = o["tools"], !tools.isNull, !(tools.array?.isEmpty ?? false) {
            guard let list = tools.array else { throw APIError.invalid("tools", "tools: must be an array") }
            chat["tools"] = .array(try list.enumerated().map { try Self.tool($1, path: "tools.\($0)") })
        }
        if let choice = o["tool_choice"], !choice.isNull {
            let path = "tool_choice"
            guard let type = choice["type"]?.string else { throw APIError.invalid(path, "tool_choice: must be an object with a 'type'") }
            switch type {
            case "auto": chat["tool_choice"] = .string("auto")
            case "any": chat["tool_choice"] = .string("required")
            case "none": chat["tool_choice"] = .string("none")
            case "tool":
                guard let name = choice["name"]?.string else {
                    throw APIError.invalid(path, "tool_choice.name: Field required for type 'tool'")
                }
                chat["tool_choice"] = .object(
                    JSONObject(["type": .string("function"), "function": .object(JSONObject(["name": .string(name)]))]))
            default:
                throw APIError.invalid(path, "tool_choice.type: must be 'auto', 'any', 'tool' or 'none'; got '\(type.prefix(32))'")
            }
            if let d = choice["disable_parallel_tool_use"], !d.isNull {
                guard let b = d.bool else { throw APIError.invalid(path, "tool_choice.disable_parallel_tool_use: must be true or false") }
                chat["parallel_tool_calls"] = .bool(!b)
            }
        }

        if let t = o["temperature"], !t.isNull {
            guard let d = t.double, (0...1).contains(d) else {
                throw APIError.invalid("temperature", "temperature: must be a number from 0 to 1")
            }
            chat["temperature"] = JSONValue(d * Self.temperatureScale)
        }
        if let p = o["top_p"], !p.isNull {
            guard let d = p.double, (0...1).contains(d) else { throw APIError.invalid("top_p", "top_p: must be a number from 0 to 1") }
            chat["top_p"] = p
        }
        if let k = o["top_k"], !k.isNull {
            guard case let .number(text) = k, let n = Int(text), n >= 0 else {
                throw APIError.invalid("top_k", "top_k: must be an integer of at least 0")
            }
            chat["top_k"] = JSONValue(n)
        }
        if let stops = o["stop_sequences"], !stops.isNull {
            guard let list = stops.array, list.allSatisfy({ !($0.string ?? "").isEmpty }) else {
                throw APIError.invalid("stop_sequences", "stop_sequences: must be an array of non-empty strings")
            }
            guard list.count <= Self.maxStopSequences else {
                throw APIError.invalid(
                    "stop_sequences", "stop_sequences: at most \(Self.maxStopSequences) are supported; got \(list.count)")
            }
            if !list.isEmpty { chat["stop"] = stops }
        }
        if let config = o["output_config"], !config.isNull {
            guard config.object != nil else { throw APIError.invalid("output_config", "output_config: must be an object") }
            if let format = config["format"], !format.isNull {
                guard format["type"]?.string == "json_schema", let schema = format["schema"], schema.object != nil else {
                    throw APIError.invalid(
                        "output_config.format", "output_config.format: must be {\"type\": \"json_schema\", \"schema\": {…}}")
                }
                chat["response_format"] = .object(
                    JSONObject([
                        "type": .string("json_schema"),
                        "json_schema": .object(
                            JSONObject([
                                "name": .string("output"), "schema": schema, "strict": .bool(true),
                            ])),
                    ]))
            }
        }
        if let m = o["metadata"], !m.isNull, m.object == nil { throw APIError.invalid("metadata", "metadata: must be an object") }
        if let t = o["thinking"], !t.isNull, t["type"]?.string == nil {
            throw APIError.invalid("thinking", "thinking: must be an object with a 'type'")
        }
        chat["include_reasoning"] = .bool(o["thinking"]?["type"]?.string == "enabled")
        if let s = o["stream"], !s.isNull {
            guard let b = s.bool else { throw APIError.invalid("stream", "stream: must be true or false") }
            stream = b
        } else {
            stream = false
        }
        self.chat = .object(chat)
    }

    /// A string, or text blocks joined by blank lines (`system`, a tool result's content).
    static func text(_ value: JSONValue, path: String) throws -> String {
        if let s = value.string { return s }
        guard let blocks = value.array else { throw APIError.invalid(path, "\(path): must be a string or an array of text blocks") }
        return try blocks.enumerated().map { j, block -> String in
            guard block["type"]?.string == "text", let text = block["text"]?.string else {
                throw try refusal(block, path: "\(path).\(j)") ?? APIError.invalid("\(path).\(j)", "\(path).\(j): must be a text block")
            }
            return text
        }.joined(separator: "\n\n")
    }

    /// The 400 for a block the model cannot read, if `block` is one.
    static func refusal(_ block: JSONValue, path: String) throws -> APIError? {
        guard let type = block["type"]?.string, ["image", "document", "search_result", "container_upload"].contains(type) else {
            return nil
        }
        return APIError.unsupported("\(path).type", "\(path): Kimi K2 Instruct reads text only; '\(type)' blocks are not supported")
    }

    /// One Anthropic turn as chat messages.
    static func translate(_ turn: JSONValue, path: String) throws -> [JSONValue] {
        guard turn.object != nil else { throw APIError.invalid(path, "\(path): must be an object") }
        guard let role = turn["role"]?.string, role == "user" || role == "assistant" else {
            throw APIError.invalid("\(path).role", "\(path).role: must be 'user' or 'assistant'")
        }
        guard let content = turn["content"] else { throw APIError.invalid("\(path).content", "\(path).content: Field required") }
        if let s = content.string { return [.object(JSONObject(["role": .string(role), "content": .string(s)]))] }
        guard let blocks = content.array else {
            throw APIError.invalid("\(path).content", "\(path).content: must be a string or an array of blocks")
        }
        var texts: [String] = []
        var results: [JSONValue] = []
        var calls: [JSONValue] = []
        var reasoning: [String] = []
        for (j, block) in blocks.enumerated() {
            let bp = "\(path).content.\(j)"
            if let refused = try refusal(block, path: bp) { throw refused }
            switch (role, block["type"]?.string) {
            case (_, "text"?):
                guard let text = block["text"]?.string else { throw APIError.invalid("\(bp).text", "\(bp).text: must be a string") }
                texts.append(text)
            case ("user", "tool_result"?):
                guard let id = block["tool_use_id"]?.string else {
                    throw APIError.invalid("\(bp).tool_use_id", "\(bp).tool_use_id: Field required")
                }
                let body = try block["content"].map { $0.isNull ? "" : try Self.text($0, path: "\(bp).content") } ?? ""
                if let e = block["is_error"], !e.isNull, e.bool == nil {
                    throw APIError.invalid("\(bp).is_error", "\(bp).is_error: must be true or false")
                }
                results.append(.object(JSONObject(["role": .string("tool"), "tool_call_id": .string(id), "content": .string(body)])))
            case ("assistant", "tool_use"?):
                guard let id = block["id"]?.string, let name = block["name"]?.string else {
                    throw APIError.invalid(bp, "\(bp): a tool_use block needs 'id' and 'name'")
                }
                guard let input = block["input"], input.object != nil else {
                    throw APIError.invalid("\(bp).input", "\(bp).input: must be an object")
                }
                calls.append(
                    .object(
                        JSONObject([
                            "id": .string(id), "type": .string("function"),
                            "function": .object(
                                JSONObject([
                                    "name": .string(name), "arguments": .string(JSONWriter().string(input)),
                                ])),
                        ])))
            case ("assistant", "thinking"?):
                guard let thinking = block["thinking"]?.string else {
                    throw APIError.invalid("\(bp).thinking", "\(bp).thinking: must be a string")
                }
                reasoning.append(thinking)
            case ("assistant", "redacted_thinking"?):
                continue
            case let (_, type):
                throw APIError.invalid("\(bp).type", "\(bp).type: '\(type?.prefix(32) ?? "")' blocks are not allowed in a \(role) turn")
            }
        }
        if role == "user" {
            // Tool results answer the previous turn's calls, so they come first.
            return results
                + (texts.isEmpty
                    ? [] : [.object(JSONObject(["role": .string("user"), "content": .string(texts.joined(separator: "\n\n"))]))])
        }
        var message = JSONObject(["role": .string("assistant"), "content": .string(texts.joined())])
        if !reasoning.isEmpty { message["reasoning_content"] = .string(reasoning.joined()) }
        if !calls.isEmpty { message["tool_calls"] = .array(calls) }
        return [.object(message)]
    }

    /// An Anthropic tool as a chat function.
    static func tool(_ tool: JSONValue, path: String) throws -> JSONValue {
        guard tool.object != nil else { throw APIError.invalid(path, "\(path): must be an object") }
        if let type = tool["type"]?.string, type != "custom" {
            throw APIError.unsupported(
                "\(path).type",
                "\(path).type: server tools ('\(type.prefix(40))') are not supported; declare a custom tool with an input_schema")
        }
        guard let name = tool["name"]?.string, ChatCompletionRequest.isValidToolName(name) else {
            throw APIError.invalid("\(path).name", "\(path).name: must be 1 to 64 characters of a-z, A-Z, 0-9, _, - and .")
        }
        guard let schema = tool["input_schema"], schema.object != nil else {
            throw APIError.invalid("\(path).input_schema", "\(path).input_schema: Field required (a JSON Schema object)")
        }
        var function = JSONObject(["name": .string(name), "parameters": schema])
        if let d = tool["description"], !d.isNull {
            guard d.string != nil else { throw APIError.invalid("\(path).description", "\(path).description: must be a string") }
            function["description"] = d
        }
        return .object(JSONObject(["type": .string("function"), "function": .object(function)]))
    }

    /// An error the shared chat validation raised, with the chat field it names put back into
    /// Anthropic's terms where the translation renamed it.
    static func anthropicTerms(_ error: APIError) -> APIError {
        var e = error
        for (chat, anthropic) in [
            (".function.parameters", ".input_schema"), (".function.name", ".name"),
            ("response_format.json_schema.schema", "output_config.format.schema"),
        ] {
            e.message = e.message.replacingOccurrences(of: chat, with: anthropic)
            e.param = e.param?.replacingOccurrences(of: chat, with: anthropic)
        }
        return e
    }
}
