import KimiJSON
import KimiTokenizer

/// A validated `POST /v1/chat/completions` body. Every field OpenAI defines is either honoured
/// or refused with a 400 naming it; unknown fields (`user`, `store`, `metadata`, …) are ignored.
public struct ChatCompletionRequest {
    public enum ToolChoice: Equatable {
        case none, auto
        /// A tool call must come: the answer starts inside a tool-call section.
        case required
        /// This function must be called: the answer starts with its call, the model writes the arguments.
        case function(String)
    }

    public enum ResponseFormat: Equatable {
        case text
        /// Any JSON object.
        case jsonObject
        /// JSON valid against the schema (nil: any JSON value); `strict`: refuse keywords the
        /// engine cannot enforce.
        case jsonSchema(JSONValue?, strict: Bool)
    }

    /// The conversation's earlier tool calls: the index of this answer's first call.
    public var earlierCalls: Int {
        messages.reduce(0) { $0 + ($1["role"]?.string == "assistant" ? ($1["tool_calls"]?.array?.count ?? 0) : 0) }
    }

    /// The start of the answer that `tool_choice` imposes, in Kimi's tool-call format (markers
    /// as markers, so the prompt gets their special ids and the parser reads them as markers):
    /// a section opening for "required"; for a named function also its call header, numbered
    /// after the conversation's earlier calls (`functions.NAME:IDX`). The model continues it.
    public var forcedPrefix: [OutputPiece] {
        switch toolChoice {
        case .none, .auto: return []
        case .required: return [.marker(.sectionBegin)]
        case let .function(name):
            return [.marker(.sectionBegin), .marker(.callBegin), .text("functions.\(name):\(earlierCalls)"), .marker(.argumentBegin)]
        }
    }

    public var model: String?
    /// The messages as sent (validated), for the chat template.
    public var messages: [JSONValue]
    /// The tools as sent (validated), or nil.
    public var tools: JSONValue?
    public var toolNames: [String]
    /// Each tool's `parameters` (nil when absent) and `strict`, in `toolNames` order.
    public var toolSchemas: [(parameters: JSONValue?, strict: Bool)]
    public var responseFormat: ResponseFormat
    public var toolChoice: ToolChoice
    public var parallelToolCalls: Bool
    /// Whether a reasoning model's thinking is returned (`include_reasoning`, as vLLM names it;
    /// default true).
    public var includeReasoning: Bool
    public var maxTokens: Int?
    public var temperature: Float
    public var topP: Float
    public var topK: Int
    public var n: Int
    public var stop: [String]
    public var presencePenalty: Float
    public var frequencyPenalty: Float
    public var repetitionPenalty: Float
    public var minP: Float
    public var minTokens: Int
    public var logitBias: [Int: Float]
    /// nil: no logprobs; else how many alternatives per token (0...20).
    public var logprobs: Int?
    public var seed: UInt64?
    public var stream: Bool
    public var includeUsage: Bool
    /// Echoed in the response (one tier here: "default" when the request names none).
    public var serviceTier = "default"
    /// The final message is the assistant's start, which the answer continues (partial mode).
    public var continuesFinalMessage: Bool
    public var ignoreEOS: Bool

    /// The model card's recommended temperature for Kimi-K2-Instruct.
    public static let defaultTemperature: Float = 0.6
    public static let maxN = 8
    public static let maxTopLogprobs = 20
    public static let maxStopBytes = 1024

    public init(json body: JSONValue, vocabSize: Int) throws {
        guard let o = body.object else {
            throw APIError.invalid("", "the request body must be a JSON object", code: "invalid_json")
        }
        func number(_ key: String, _ range: ClosedRange<Double>, default fallback: Double) throws -> Double {
            guard let v = o[key], !v.isNull else { return fallback }
            guard let d = v.double, d.isFinite else { throw APIError.invalid(key, "'\(key)' must be a number") }
            guard range.contains(d) else {
                throw APIError.invalid(
                    key,
                    "'\(key)' must be between \(Self.format(range.lowerBound)) and \(Self.format(range.upperBound)); got \(Self.format(d))")
            }
            return d
        }
        func integer(_ key: String, min: Int, max: Int = Int.max) throws -> Int? {
            guard let v = o[key], !v.isNull else { return nil }
            guard case let .number(text) = v, let d = Double(text), d.rounded() == d else {
                throw APIError.invalid(key, "'\(key)' must be an integer")
            }
            let range = max == Int.max ? "at least \(min)" : "between \(min) and \(max)"
            guard let n = Int(text) ?? (abs(d) < 9e18 ? Int(d) : nil), n >= min, n <= max else {
                throw APIError.invalid(key, "'\(key)' must be \(range); got \(text.prefix(24))")
            }
            return n
        }
        func bool(_ key: String, default fallback: Bool) throws -> Bool {
            guard let v = o[key], !v.isNull else { return fallback }
            guard let b = v.bool else { throw APIError.invalid(key, "'\(key)' must be true or false") }
            return b
        }

        if let m = o["model"], !m.isNull {
            guard let s = m.string else { throw APIError.invalid("model", "'model' must be a string") }
            model = s
        }
        let list = Self.kimiCallIDs(try Self.validateMessages(o["messages"]))
        messages = list
        // Continuing the final assistant message: Moonshot's "partial", DeepSeek's "prefix" on that
        // message, or vLLM's request-level "continue_final_message".
        let last = list[list.count - 1]
        let path = "messages[\(list.count - 1)]"
        let marked = try ["partial", "prefix"].contains { key in
            guard let v = last[key], !v.isNull else { return false }
            guard let b = v.bool else { throw APIError.invalid("\(path).\(key)", "'\(path).\(key)' must be true or false") }
            return b
        }
        continuesFinalMessage = try marked || bool("continue_final_message", default: false)
        if continuesFinalMessage {
            guard last["role"]?.string == "assistant" else {
                throw APIError.invalid(
                    path, "continuing the final message needs it to be the assistant's ('\(path).role' is '\(last["role"]?.string ?? "")')")
            }
            if let calls = last["tool_calls"], !calls.isNull {
                throw APIError.unsupported("\(path).tool_calls", "a partial assistant message continues text; it cannot hold tool_calls")
            }
        }

        // Tools and tool_choice.
        toolNames = []
        toolSchemas = []
        if let t = o["tools"], !t.isNull {
            guard let list = t.array else { throw APIError.invalid("tools", "'tools' must be an array") }
            guard !list.isEmpty else { throw APIError.invalid("tools", "'tools' must not be an empty array; leave it out instead") }
            for (i, tool) in list.enumerated() {
                let path = "tools[\(i)]"
                guard tool.object != nil else { throw APIError.invalid(path, "'\(path)' must be an object") }
                guard tool["type"]?.string == "function" else {
                    throw APIError.unsupported("\(path).type", "'\(path).type' must be \"function\"")
                }
                guard let function = tool["function"], function.object != nil else {
                    throw APIError.invalid("\(path).function", "'\(path).function' must be an object")
                }
                guard let name = function["name"]?.string, Self.isValidToolName(name) else {
                    throw APIError.invalid(
                        "\(path).function.name", "'\(path).function.name' must be 1 to 64 characters of a-z, A-Z, 0-9, _, - and .")
                }
                if let d = function["description"], !d.isNull, d.string == nil {
                    throw APIError.invalid("\(path).function.description", "'\(path).function.description' must be a string")
                }
                if let p = function["parameters"], !p.isNull, p.object == nil {
                    throw APIError.invalid("\(path).function.parameters", "'\(path).function.parameters' must be a JSON Schema object")
                }
                guard !toolNames.contains(name) else {
                    throw APIError.invalid("\(path).function.name", "tool name '\(name)' is declared twice")
                }
                if let s = function["strict"], !s.isNull, s.bool == nil {
                    throw APIError.invalid("\(path).function.strict", "'\(path).function.strict' must be true or false")
                }
                toolNames.append(name)
                toolSchemas.append((function["parameters"].flatMap { $0.isNull ? nil : $0 }, function["strict"]?.bool ?? false))
            }
            tools = t
        }
        switch o["tool_choice"] {
        case nil, .null?:
            toolChoice = toolNames.isEmpty ? .none : .auto
        case .string("none")?:
            toolChoice = .none
        case .string("auto")?:
            guard !toolNames.isEmpty else { throw APIError.invalid("tool_choice", "'tool_choice' is \"auto\" but no 'tools' are given") }
            toolChoice = .auto
        case .string("required")?:
            guard !toolNames.isEmpty else {
                throw APIError.invalid("tool_choice", "'tool_choice' is \"required\" but no 'tools' are given")
            }
            toolChoice = .required
        case let .object(choice)?:
            guard choice["type"]?.string == "function", let name = choice["function"]?["name"]?.string else {
                throw APIError.invalid(
                    "tool_choice",
                    "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}")
            }
            guard toolNames.contains(name) else {
                throw APIError.invalid("tool_choice", "'tool_choice' names the function '\(name)', which is not in 'tools'")
            }
            toolChoice = .function(name)
        default:
            throw APIError.invalid(
                "tool_choice",
                "'tool_choice' must be \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}")
        }
        parallelToolCalls = try bool("parallel_tool_calls", default: true)
        includeReasoning = try bool("include_reasoning", default: true)

        // max_completion_tokens (current) wins over max_tokens (deprecated) when both are given.
        maxTokens = try integer("max_completion_tokens", min: 1) ?? integer("max_tokens", min: 1)
        temperature = Float(try number("temperature", 0...2, default: Double(Self.defaultTemperature)))
        topP = Float(try number("top_p", 0...1, default: 1))
        topK = try integer("top_k", min: -1, max: vocabSize).map { max($0, 0) } ?? 0
        n = try integer("n", min: 1, max: Self.maxN) ?? 1
        presencePenalty = Float(try number("presence_penalty", -2...2, default: 0))
        frequencyPenalty = Float(try number("frequency_penalty", -2...2, default: 0))
        // vLLM's extra sampling fields.
        repetitionPenalty = Float(try number("repetition_penalty", 0.01...10, default: 1))
        minP = Float(try number("min_p", 0...1, default: 0))
        minTokens = try integer("min_tokens", min: 0) ?? 0
        if let maxTokens, minTokens > maxTokens {
            throw APIError.invalid("min_tokens", "'min_tokens' (\(minTokens)) may not exceed 'max_tokens' (\(maxTokens))")
        }

        // Each stop string is matched against every token's text: its length bounds that work.
        func stopString(_ s: String, _ param: String) throws -> String {
            guard !s.isEmpty else { throw APIError.invalid(param, "'\(param)' must be a non-empty string") }
            guard s.utf8.count <= Self.maxStopBytes else {
                throw APIError.invalid(param, "'\(param)' may be at most \(Self.maxStopBytes) bytes long; got \(s.utf8.count)")
            }
            return s
        }
        switch o["stop"] {
        case nil, .null?: stop = []
        case let .string(s)?:
            stop = [try stopString(s, "stop")]
        case let .array(list)?:
            guard list.count <= 4 else { throw APIError.invalid("stop", "'stop' may hold at most 4 strings; got \(list.count)") }
            stop = try list.enumerated().map { i, v in
                guard let s = v.string else { throw APIError.invalid("stop[\(i)]", "'stop[\(i)]' must be a non-empty string") }
                return try stopString(s, "stop[\(i)]")
            }
        default:
            throw APIError.invalid("stop", "'stop' must be a string or an array of up to 4 strings")
        }

        logitBias = [:]
        if let b = o["logit_bias"], !b.isNull {
            guard let entries = b.object else { throw APIError.invalid("logit_bias", "'logit_bias' must be an object of token id → bias") }
            guard entries.count <= 1024 else { throw APIError.invalid("logit_bias", "'logit_bias' may hold at most 1024 entries") }
            for (key, value) in entries {
                guard let id = Int(key), id >= 0, id < vocabSize else {
                    throw APIError.invalid(
                        "logit_bias", "'logit_bias' key '\(key.prefix(32))' is not a token id of this model (0 to \(vocabSize - 1))")
                }
                guard let bias = value.double, bias.isFinite, (-100...100).contains(bias) else {
                    throw APIError.invalid("logit_bias", "'logit_bias' values must be numbers from -100 to 100")
                }
                logitBias[id] = Float(bias)
            }
        }

        let wantsLogprobs = try bool("logprobs", default: false)
        let top = try integer("top_logprobs", min: 0, max: Self.maxTopLogprobs)
        if top != nil && !wantsLogprobs {
            throw APIError.invalid("top_logprobs", "'top_logprobs' requires 'logprobs': true")
        }
        logprobs = wantsLogprobs ? (top ?? 0) : nil

        if let s = o["seed"], !s.isNull {
            guard case let .number(text) = s, let v = Int64(text) else {
                throw APIError.invalid("seed", "'seed' must be an integer between -9223372036854775808 and 9223372036854775807")
            }
            seed = UInt64(bitPattern: v)
        }

        responseFormat = .text
        if let format = o["response_format"], !format.isNull {
            guard let type = format["type"]?.string else {
                throw APIError.invalid("response_format", "'response_format' must be an object with a 'type'")
            }
            switch type {
            case "text": break
            case "json_object": responseFormat = .jsonObject
            case "json_schema":
                guard let spec = format["json_schema"], spec.object != nil else {
                    throw APIError.invalid(
                        "response_format.json_schema", "'response_format.json_schema' must be an object with 'name' and 'schema'")
                }
                guard let name = spec["name"]?.string, (1...64).contains(name.utf8.count),
                    name.utf8.allSatisfy({
                        ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F || $0 == 0x2D
                    })
                else {
                    throw APIError.invalid(
                        "response_format.json_schema.name",
                        "'response_format.json_schema.name' must be 1 to 64 characters of a-z, A-Z, 0-9, _ and -")
                }
                let schema = spec["schema"].flatMap { $0.isNull ? nil : $0 }
                if let schema, schema.object == nil && schema.bool == nil {
                    throw APIError.invalid(
                        "response_format.json_schema.schema", "'response_format.json_schema.schema' must be a JSON Schema object")
                }
                if let s = spec["strict"], !s.isNull, s.bool == nil {
                    throw APIError.invalid(
                        "response_format.json_schema.strict", "'response_format.json_schema.strict' must be true or false")
                }
                responseFormat = .jsonSchema(schema, strict: spec["strict"]?.bool ?? false)
            default:
                throw APIError.invalid("response_format", "'response_format.type' must be \"text\", \"json_object\" or \"json_schema\"")
            }
        }

        if continuesFinalMessage && responseFormat != .text {
            throw APIError.unsupported(
                "response_format", "'response_format' cannot constrain the continuation of a partial assistant message")
        }
        stream = try bool("stream", default: false)
        includeUsage = false
        if let options = o["stream_options"], !options.isNull {
            guard stream else { throw APIError.invalid("stream_options", "'stream_options' is only allowed with 'stream': true") }
            guard options.object != nil else { throw APIError.invalid("stream_options", "'stream_options' must be an object") }
            if let u = options["include_usage"], !u.isNull {
                guard let b = u.bool else {
                    throw APIError.invalid("stream_options.include_usage", "'stream_options.include_usage' must be true or false")
                }
                includeUsage = b
            }
        }
        ignoreEOS = try bool("ignore_eos", default: false)
        // Output the model cannot make: refused rather than silently ignored.
        if let m = o["modalities"], !m.isNull {
            guard let list = m.array, list.allSatisfy({ $0.string != nil }) else {
                throw APIError.invalid("modalities", "'modalities' must be an array of strings")
            }
            if list.contains(where: { $0.string != "text" }) {
                throw APIError.unsupported("modalities", "Kimi K2 Instruct writes text only; 'modalities' may only hold \"text\"")
            }
        }
        for key in ["audio", "prediction"] where o[key] != nil && o[key] != .null {
            throw APIError.unsupported(key, "'\(key)' is not supported: Kimi K2 Instruct writes text only, without predicted outputs")
        }
        if let tier = o["service_tier"], !tier.isNull {
            guard let t = tier.string else { throw APIError.invalid("service_tier", "'service_tier' must be a string") }
            serviceTier = t
        }
        if o["functions"] != nil || o["function_call"] != nil {
            throw APIError.unsupported(
                o["functions"] != nil ? "functions" : "function_call",
                "the deprecated 'functions' / 'function_call' are not supported; use 'tools'")
        }
    }

    static func format(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : String(d)
    }

    /// Kimi's ids are `functions.NAME:IDX`; names may contain dots as well as OpenAI's set.
    static func isValidToolName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { c in
                (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D || c == 0x2E
            }
    }

    /// OpenAI's message shapes; the model reads text only.
    static func validateMessages(_ value: JSONValue?) throws -> [JSONValue] {
        guard let value, !value.isNull else {
            throw APIError.invalid("messages", "'messages' is required", code: "missing_required_parameter")
        }
        guard let list = value.array else { throw APIError.invalid("messages", "'messages' must be an array") }
        guard !list.isEmpty else { throw APIError.invalid("messages", "'messages' must not be empty") }
        for (i, message) in list.enumerated() {
            let path = "messages[\(i)]"
            guard message.object != nil else { throw APIError.invalid(path, "'\(path)' must be an object") }
            guard let role = message["role"]?.string else {
                throw APIError.invalid("\(path).role", "'\(path).role' must be one of system, developer, user, assistant, tool")
            }
            if let name = message["name"], !name.isNull, name.string == nil {
                throw APIError.invalid("\(path).name", "'\(path).name' must be a string")
            }
            switch role {
            case "system", "developer", "user":
                try validateContent(message["content"], path: "\(path).content", required: true)
            case "assistant":
                let calls = message["tool_calls"].flatMap { $0.isNull ? nil : $0 }
                try validateContent(message["content"], path: "\(path).content", required: calls == nil)
                if let calls {
                    guard let list = calls.array else {
                        throw APIError.invalid("\(path).tool_calls", "'\(path).tool_calls' must be an array")
                    }
                    for (j, call) in list.enumerated() {
                        let cp = "\(path).tool_calls[\(j)]"
                        guard call.object != nil, call["id"]?.string != nil else {
                            throw APIError.invalid("\(cp).id", "'\(cp).id' must be a string")
                        }
                        guard call["type"]?.string ?? "function" == "function" else {
                            throw APIError.invalid("\(cp).type", "'\(cp).type' must be \"function\"")
                        }
                        guard call["function"]?["name"]?.string != nil else {
                            throw APIError.invalid("\(cp).function.name", "'\(cp).function.name' must be a string")
                        }
                        guard call["function"]?["arguments"]?.string != nil else {
                            throw APIError.invalid("\(cp).function.arguments", "'\(cp).function.arguments' must be a string (JSON text)")
                        }
                    }
                }
            case "tool":
                guard message["tool_call_id"]?.string != nil else {
                    throw APIError.invalid("\(path).tool_call_id", "'\(path).tool_call_id' is required for tool messages")
                }
                try validateContent(message["content"], path: "\(path).content", required: true)
            case "function":
                throw APIError.unsupported("\(path).role", "the deprecated 'function' role is not supported; use 'tool'")
            default:
                throw APIError.invalid(
                    "\(path).role", "'\(path).role' must be one of system, developer, user, assistant, tool; got '\(role.prefix(32))'")
            }
        }
        return list
    }

    /// The messages with every earlier tool call's id in Kimi's form, `functions.NAME:IDX` (IDX
    /// counting the conversation's calls from 0), and each tool result's `tool_call_id` renamed
    /// with its call. K2 was trained on that form and copies what it sees, so ids that clients
    /// make up (`call_abc123`, `toolu_…`) are renamed before rendering, as Moonshot's API does;
    /// ids already in the form are kept.
    static func kimiCallIDs(_ messages: [JSONValue]) -> [JSONValue] {
        var renamed: [String: String] = [:]
        var index = 0
        return messages.map { message in
            guard var m = message.object else { return message }
            if m["role"]?.string == "assistant", let calls = m["tool_calls"]?.array {
                m["tool_calls"] = .array(
                    calls.map { call in
                        defer { index += 1 }
                        guard var c = call.object, let id = c["id"]?.string, let name = c["function"]?["name"]?.string,
                            !isKimiCallID(id, name: name)
                        else { return call }
                        let kimi = "functions.\(name):\(index)"
                        renamed[id] = kimi
                        c["id"] = .string(kimi)
                        return .object(c)
                    })
            } else if m["role"]?.string == "tool", let id = m["tool_call_id"]?.string, let kimi = renamed[id] {
                m["tool_call_id"] = .string(kimi)
            }
            return .object(m)
        }
    }

    /// `functions.NAME:IDX` for this call's name.
    static func isKimiCallID(_ id: String, name: String) -> Bool {
        let prefix = "functions.\(name):"
        guard id.hasPrefix(prefix) else { return false }
        let digits = id.dropFirst(prefix.count)
        return !digits.isEmpty && digits.allSatisfy(\.isASCII) && digits.allSatisfy(\.isNumber)
    }

    /// A string, or an array of text parts (the model has no image or audio input).
    static func validateContent(_ content: JSONValue?, path: String, required: Bool) throws {
        switch content {
        case nil, .null?:
            if required { throw APIError.invalid(path, "'\(path)' is required") }
        case .string?:
            break
        case let .array(parts)?:
            for (j, part) in parts.enumerated() {
                let pp = "\(path)[\(j)]"
                guard let type = part["type"]?.string else { throw APIError.invalid("\(pp).type", "'\(pp).type' is required") }
                switch type {
                case "text":
                    guard part["text"]?.string != nil else { throw APIError.invalid("\(pp).text", "'\(pp).text' must be a string") }
                case "image_url", "input_audio", "file", "image":
                    throw APIError.unsupported(
                        "\(pp).type", "Kimi K2 Instruct reads text only; content parts of type '\(type)' are not supported")
                default:
                    throw APIError.invalid("\(pp).type", "'\(pp).type' must be \"text\"; got '\(type.prefix(32))'")
                }
            }
        default:
            throw APIError.invalid(path, "'\(path)' must be a string or an array of content parts")
        }
    }
}
