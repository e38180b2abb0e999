import KimiJSON

/// A `POST /v1/responses` body (the stateless part of OpenAI's Responses API), validated under
/// its own field names and translated into the chat request every wire format shares.
///
/// - `instructions` becomes the system message; `input` is a string (one user message) or items:
///   messages (`role`, `content` as a string or `input_text` / `output_text` parts), consecutive
///   `function_call` items as one assistant turn's tool calls (`call_id` as the call's id), and
///   `function_call_output` items as tool messages. A `reasoning` item's text (its
///   `reasoning_text` parts, else its summary) is the next assistant turn's `reasoning_content`.
/// - Function tools (`type: function` with `name`, `description`, `parameters`, `strict`),
///   `tool_choice`, `parallel_tool_calls`, `max_output_tokens`, `temperature`, `top_p` and
///   `text.format` (text, json_object, json_schema: constrained as `response_format` is) carry
///   over.
/// - The server keeps nothing: `previous_response_id`, `store: true` and `background: true` are a
///   400, as are images, files and built-in tools (web search, file search, computer use, …).
struct ResponsesRequest {
    let chat: JSONValue
    let stream: Bool
    /// What the response echoes back.
    let instructions: JSONValue
    let textFormat: JSONValue
    let metadata: JSONValue

    init(json body: JSONValue) throws {
        guard let o = body.object else { throw APIError.invalid("", "the request body must be a JSON object", code: "invalid_json") }
        if let p = o["previous_response_id"], !p.isNull {
            throw APIError.unsupported(
                "previous_response_id", "this server is stateless and keeps no responses: send the whole conversation in 'input'")
        }
        for key in ["store", "background"] where o[key]?.bool == true {
            throw APIError.unsupported(key, "this server is stateless: '\(key)': true is not supported")
        }
        var chat = JSONObject()
        for key in ["model", "temperature", "top_p", "parallel_tool_calls", "stream"] { if let v = o[key] { chat[key] = v } }
        if let m = o["max_output_tokens"] { chat["max_tokens"] = m }
        var messages: [JSONValue] = []
        instructions = o["instructions"] ?? .null
        if !instructions.isNull {
            guard instructions.string != nil else { throw APIError.invalid("instructions", "'instructions' must be a string") }
            messages.append(.object(JSONObject(["role": .string("system"), "content": instructions])))
        }
        switch o["input"] {
        case let .string(text)?:
            messages.append(.object(JSONObject(["role": .string("user"), "content": .string(text)])))
        case let .array(items)?:
            messages += try Self.translate(items)
        default:
            throw APIError.invalid("input", "'input' must be a string or an array of input items", code: "missing_required_parameter")
        }
        chat["messages"] = .array(messages)

        if let tools = o["tools"], !tools.isNull, !(tools.array?.isEmpty ?? false) {
            guard let list = tools.array else { throw APIError.invalid("tools", "'tools' must be an array") }
            chat["tools"] = .array(
                try list.enumerated().map { i, tool in
                    guard tool["type"]?.string == "function" else {
                        throw APIError.unsupported(
                            "tools[\(i)].type",
                            "only function tools are supported; built-in tools ('\(tool["type"]?.string?.prefix(40) ?? "")') are not")
                    }
                    var function = JSONObject()
                    for key in ["name", "description", "parameters", "strict"] { if let v = tool[key] { function[key] = v } }
                    return .object(JSONObject(["type": .string("function"), "function": .object(function)]))
                })
        }
        switch o["tool_choice"] {
        case let .object(choice)?:
            guard choice["type"]?.string == "function", let name = choice["name"]?.string else {
                throw APIError.invalid(
                    "tool_choice", "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"name\": …}")
            }
            chat["tool_choice"] = .object(
                JSONObject(["type": .string("function"), "function": .object(JSONObject(["name": .string(name)]))]))
        case let choice?:
            chat["tool_choice"] = choice
        case nil: break
        }
        textFormat = o["text"]?["format"] ?? .object(JSONObject(["type": .string("text")]))
        if let format = o["text"]?["format"], !format.isNull {
            guard let type = format["type"]?.string else {
                throw APIError.invalid("text.format", "'text.format' must be an object with a 'type'")
            }
            switch type {
            case "text", "json_object": chat["response_format"] = .object(JSONObject(["type": .string(type)]))
            case "json_schema":
                var spec = JSONObject()
                for key in ["name", "schema", "strict"] { if let v = format[key] { spec[key] = v } }
                chat["response_format"] = .object(JSONObject(["type": .string("json_schema"), "json_schema": .object(spec)]))
            default:
                throw APIError.invalid("text.format.type", "'text.format.type' must be \"text\", \"json_object\" or \"json_schema\"")
            }
        }
        metadata = o["metadata"] ?? .object(JSONObject())
        stream = o["stream"]?.bool ?? false
        self.chat = .object(chat)
    }

    /// Input items as chat messages.
    static func translate(_ items: [JSONValue]) throws -> [JSONValue] {
        var messages: [JSONValue] = []
        var calls: [JSONValue] = []
        // The reasoning of the assistant turn to come.
        var reasoning: String?
        func assistant(_ message: JSONObject) -> JSONValue {
            var m = message
            if let reasoning { m["reasoning_content"] = .string(reasoning) }
            reasoning = nil
            return .object(m)
        }
        func flushCalls() {
            guard !calls.isEmpty else { return }
            messages.append(assistant(JSONObject(["role": .string("assistant"), "content": .string(""), "tool_calls": .array(calls)])))
            calls = []
        }
        for (i, item) in items.enumerated() {
            let path = "input[\(i)]"
            guard item.object != nil else { throw APIError.invalid(path, "'\(path)' must be an object") }
            switch item["type"]?.string ?? "message" {
            case "message":
                flushCalls()
                guard let role = item["role"]?.string, ["user", "system", "developer", "assistant"].contains(role) else {
                    throw APIError.invalid("\(path).role", "'\(path).role' must be user, system, developer or assistant")
                }
                let message = JSONObject(["role": .string(role), "content": .string(try text(item["content"], path: "\(path).content"))])
                messages.append(role == "assistant" ? assistant(message) : .object(message))
            case "function_call":
                guard let id = item["call_id"]?.string, let name = item["name"]?.string, let arguments = item["arguments"]?.string else {
                    throw APIError.invalid(path, "'\(path)' (a function_call) needs 'call_id', 'name' and 'arguments' strings")
                }
                calls.append(
                    .object(
                        JSONObject([
                            "id": .string(id), "type": .string("function"),
                            "function": .object(JSONObject(["name": .string(name), "arguments": .string(arguments)])),
                        ])))
            case "function_call_output":
                flushCalls()
                guard let id = item["call_id"]?.string, let output = item["output"] else {
                    throw APIError.invalid(path, "'\(path)' (a function_call_output) needs 'call_id' and 'output'")
                }
                messages.append(
                    .object(
                        JSONObject([
                            "role": .string("tool"), "tool_call_id": .string(id),
                            "content": .string(try text(output, path: "\(path).output")),
                        ])))
            case "reasoning":
                let parts = item["content"]?.array.flatMap { $0.isEmpty ? nil : $0 } ?? item["summary"]?.array ?? []
                reasoning = (reasoning ?? "") + parts.compactMap { $0["text"]?.string }.joined()
            case let type:
                throw APIError.unsupported("\(path).type", "input items of type '\(type.prefix(40))' are not supported")
            }
        }
        flushCalls()
        return messages
    }

    /// A string, or text parts (`input_text`, `output_text`) joined.
    static func text(_ value: JSONValue?, path: String) throws -> String {
        if let s = value?.string { return s }
        guard let parts = value?.array else { throw APIError.invalid(path, "'\(path)' must be a string or an array of text parts") }
        return try parts.enumerated().map { j, part in
            switch part["type"]?.string {
            case "input_text"?, "output_text"?, "text"?:
                guard let text = part["text"]?.string else {
                    throw APIError.invalid("\(path)[\(j)].text", "'\(path)[\(j)].text' must be a string")
                }
                return text
            case let type:
                throw APIError.unsupported(
                    "\(path)[\(j)].type", "Kimi K2 Instruct reads text only; '\(type?.prefix(32) ?? "")' parts are not supported")
            }
        }.joined()
    }
}
