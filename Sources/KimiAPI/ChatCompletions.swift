import Foundation
import HTTPServer
import KimiJSON
import KimiServing
import KimiTokenizer

/// `POST /v1/chat/completions`: prompt, generation, and the answer in OpenAI's shape —
/// a `chat.completion`, or `chat.completion.chunk` events ending with `data: [DONE]`.
extension KimiAPI {
    func chatCompletions(_ http: HTTPRequest, _ writer: ResponseWriter, record: inout RequestRecord) throws {
        let start = ProcessInfo.processInfo.systemUptime
        let request = try ChatCompletionRequest(json: try jsonBody(http), vocabSize: tokenizer.vocabSize)
        let modelName = try servedModel(request.model)
        let prepared = try prepare(request)
        let context = CompletionContext(
            id: "chatcmpl-" + Self.randomID(), created: Int(Date().timeIntervalSince1970),
            model: modelName, request: request, start: start)
        record.id = context.id
        logPrompt(prepared, id: context.id)
        // Every choice is submitted now, so that they decode together as one batch sharing the
        // prompt's cache, and a full queue is a 429 before any SSE byte.
        let handles = try submitAll((0..<request.n).map(prepared.generation))
        // Choices the client did not wait for stop with it.
        defer { handles.forEach { $0.cancel() } }
        let outcome = request.stream ? stream(context, handles, writer) : try complete(context, handles, writer)
        record.finish(with: outcome, start: start)
        logOutput(outcome, id: context.id)
    }

    /// The body of a JSON request.
    func jsonBody(_ http: HTTPRequest) throws -> JSONValue {
        if let type = http.header("Content-Type"), !type.lowercased().hasPrefix("application/json") {
            throw APIError(
                status: 415, type: "invalid_request_error",
                message: "Content-Type must be application/json; got \(type.prefix(100))", code: "unsupported_media_type")
        }
        do { return try JSONParser.parse(http.body) } catch {
            throw APIError.invalid("", "the request body is not valid JSON: \(error)", code: "invalid_json")
        }
    }

    /// The name a request's `model` selects (the first served name when it gives none).
    func servedModel(_ requested: String?) throws -> String {
        let name = requested ?? configuration.servedModelNames[0]
        guard configuration.servedModelNames.contains(name) else { throw modelNotFound(name) }
        return name
    }

    /// A chat request made ready for the engine: its prompt's tokens and each choice's generation.
    struct Prepared {
        let prompt: ChatTemplate.Prompt
        let promptTokens: [Int]
        let generation: (Int) -> GenerationRequest
    }

    /// Renders and tokenises the prompt, compiles the output's grammar and checks the context
    /// length: every wire format's requests go through here.
    func prepare(_ request: ChatCompletionRequest) throws -> Prepared {
        // With tool_choice "none" the tools stay in the prompt; the grammar keeps the section shut.
        let prompt = ChatTemplate.render(
            messages: request.messages, tools: request.tools, kind: configuration.chatTemplate,
            addGenerationPrompt: !request.continuesFinalMessage, continuingFinalMessage: request.continuesFinalMessage)
        let grammar = try grammar(for: request)
        // tool_choice "required" or a named function: the answer begins inside a tool call.
        let promptTokens = tokenizer.encode(prompt: prompt) + tokenizer.encode(pieces: request.forcedPrefix)
        let limit = configuration.maxModelLen
        // max_tokens may be as large as a JSON integer can be: compared by subtraction, never summed.
        let room = limit - promptTokens.count
        let maxTokens = request.maxTokens ?? room
        guard maxTokens <= room, maxTokens >= 1 else {
            let requested = maxTokens > room ? "\(Decimal(promptTokens.count) + Decimal(maxTokens))" : "\(promptTokens.count + 1)"
            throw APIError(
                status: 400, type: "invalid_request_error",
                message:
                    "This model's maximum context length is \(limit) tokens. However, you requested \(requested) tokens (\(promptTokens.count) in the messages, \(max(maxTokens, 1)) in the completion). Please reduce the length of the messages or completion.",
                param: "messages", code: "context_length_exceeded")
        }
        let sampling = request.sampling
        let seed = request.seed ?? UInt64.random(in: 0...UInt64.max)
        let stopTokens = self.stopTokens
        return Prepared(
            prompt: prompt, promptTokens: promptTokens,
            generation: { choice in
                var s = sampling
                s.seed = seed &+ UInt64(choice)
                return GenerationRequest(
                    prompt: promptTokens, sampling: s, maxTokens: maxTokens, stopTokens: stopTokens,
                    stopStrings: request.stop, logprobs: request.logprobs, ignoreStopTokens: request.ignoreEOS,
                    grammar: grammar)
            })
    }

    func logPrompt(_ prepared: Prepared, id: String) {
        if configuration.logPrompts {
            configuration.logger.info("prompt", metadata: ["id": "\(id)", "text": "\(prepared.prompt.text)"])
        }
    }

    func logOutput(_ outcome: Outcome, id: String) {
        if configuration.logPrompts, let text = outcome.text {
            configuration.logger.info("output", metadata: ["id": "\(id)", "text": "\(text)"])
        }
    }

    struct CompletionContext {
        let id: String
        let created: Int
        let model: String
        let request: ChatCompletionRequest
        let start: Double
    }

    /// What a completion came to, for the request's log line.
    struct Outcome {
        var usage: Usage?
        /// Uptime when the first token arrived.
        var firstToken: Double?
        /// The last choice's finish_reason; nil if the client left first.
        var finish: String?
        var text: String?
    }

    func submit(_ generation: GenerationRequest) throws -> GenerationHandle {
        do {
            return try engine.submit(generation)
        } catch SubmitError.queueFull(let queued) {
            var error = APIError(
                status: 429, type: "rate_limit_error",
                message: "the server is busy: \(queued) requests are already waiting; retry shortly", code: "queue_full")
            error.headers = [("Retry-After", "1")]
            throw error
        } catch SubmitError.tooLarge(let needed, let budget) {
            throw APIError(
                status: 400, type: "invalid_request_error",
                message: "the prompt plus max_tokens need \(needed) tokens of KV cache; this server's budget holds \(budget)",
                param: "max_tokens", code: "context_length_exceeded")
        } catch {
            var error = APIError(status: 503, type: "service_unavailable", message: "the server is shutting down", code: "shutting_down")
            error.headers = [("Retry-After", "5")]
            throw error
        }
    }

    /// Submits generations together; a refusal cancels those already submitted.
    func submitAll(_ generations: [GenerationRequest]) throws -> [GenerationHandle] {
        var handles: [GenerationHandle] = []
        for g in generations {
            do { handles.append(try submit(g)) } catch {
                handles.forEach { $0.cancel() }
                throw error
            }
        }
        return handles
    }

    /// Ends an OpenAI-style event stream with the error of a failed generation.
    static func endStream(_ events: EventStream, failure message: String) {
        events.send(data: JSONWriter().string(APIError(status: 500, type: "server_error", message: "generation failed: \(message)").json))
        events.send(data: "[DONE]")
        events.finish()
    }

    static func randomID() -> String {
        (0..<24).map { _ in String("0123456789abcdefghijklmnopqrstuvwxyz".randomElement()!) }.joined()
    }

    /// Waits for the next event; cancels the generation when the client leaves (a poll of the
    /// socket at most every quarter second, whether events flow or not, so a departed client's
    /// sequence is dropped within a few engine steps). `idle` is called on every wait without
    /// an event (for keep-alives).
    /// `lastCheck`: uptime of the last poll, kept by the caller across events.
    func nextEvent(
        _ handle: GenerationHandle, clientGone: () -> Bool, lastCheck: inout Double,
        idle: () -> Void = {}
    ) -> GenerationEvent? {
        while true {
            let now = ProcessInfo.processInfo.systemUptime
            var gone = false
            if now - lastCheck >= 0.25 {
                lastCheck = now
                gone = clientGone()
            }
            if gone {
                handle.cancel()
                // Drain to the engine's final event so its resources are released.
                while !handle.isFinished { _ = handle.next(timeout: 1) }
                return nil
            }
            if let event = handle.next(timeout: 0.25) { return event }
            if handle.isFinished { return nil }
            idle()
        }
    }

    // MARK: - Non-streaming

    /// How a generation ended, as `follow` saw it.
    enum Followed {
        case finished(FinishReason, Usage, stopString: String?)
        case failed(String)
        /// The client left (or the generation was cancelled).
        case gone
    }

    /// Follows a generation to its end: `started` with the cached prompt tokens, `output` with
    /// every piece of output and its log-probabilities as they arrive; notes when the first
    /// token came in `outcome`. `clientGone` and `idle` as in `nextEvent`.
    func follow(
        _ handle: GenerationHandle, clientGone: () -> Bool, idle: () -> Void = {}, _ outcome: inout Outcome,
        started: (_ cachedTokens: Int) -> Void = { _ in }, output: ([OutputPiece], [TokenLogprob]) -> Void
    ) -> Followed {
        var lastCheck = -Double.infinity
        while let event = nextEvent(handle, clientGone: clientGone, lastCheck: &lastCheck, idle: idle) {
            switch event {
            case let .started(cached):
                started(cached)
            case let .output(pieces, logprobs):
                if outcome.firstToken == nil { outcome.firstToken = ProcessInfo.processInfo.systemUptime }
                output(pieces, logprobs)
            case let .finished(reason, usage, stopString):
                return reason == .cancelled ? .gone : .finished(reason, usage, stopString: stopString)
            case let .failed(message):
                return .failed(message)
            }
        }
        return .gone
    }

    /// How a generation waited for whole came out.
    enum Collected {
        case finished([OutputPiece], FinishReason, Usage, stopString: String?)
        case failed(String)
        /// The client left (or the generation was cancelled).
        case gone
    }

    /// Waits for a whole generation, noting when its first token came in `outcome`.
    func collect(_ handle: GenerationHandle, _ writer: ResponseWriter, _ outcome: inout Outcome) -> Collected {
        var output: [OutputPiece] = []
        switch follow(handle, clientGone: { writer.clientGone }, &outcome, output: { pieces, _ in output += pieces }) {
        case let .finished(reason, usage, stopString): return .finished(output, reason, usage, stopString: stopString)
        case let .failed(message): return .failed(message)
        case .gone: return .gone
        }
    }

    /// A `chat.completion`, its JSON written as the tokens arrive (`BufferedBody`): with
    /// logprobs every token carries up to 21 entries with their bytes, so a request of a few
    /// hundred bytes can ask for tens of megabytes, which must not sit in memory whole. So
    /// within a choice `logprobs` comes before `message` (key order means nothing in JSON).
    func complete(_ c: CompletionContext, _ handles: [GenerationHandle], _ writer: ResponseWriter) throws -> Outcome {
        let json = JSONWriter()
        var body = BufferedBody(writer: writer, contentType: "application/json")
        var usage = Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        var outcome = Outcome()
        /// A failure once the status is out can only cut the body short.
        func fail(_ error: APIError) throws -> Outcome {
            guard body.committed else { throw error }
            body.abort()
            outcome.finish = "error"
            return outcome
        }
        body.append(
            #"{"id":\#(json.string(.string(c.id))),"object":"chat.completion","created":\#(c.created),"#
                + #""model":\#(json.string(.string(c.model))),"system_fingerprint":"kimi-serve","#
                + #""service_tier":\#(json.string(.string(c.request.serviceTier))),"choices":["#)
        for (index, handle) in handles.enumerated() {
            body.append(
                (index == 0 ? "" : ",") + #"{"index":\#(index),"logprobs":"# + (c.request.logprobs == nil ? "null" : #"{"content":["#))
            var output: [OutputPiece] = []
            var entries = 0
            let followed = follow(handle, clientGone: { writer.clientGone }, &outcome) { pieces, logprobs in
                output += pieces
                for entry in logprobs {
                    body.append((entries == 0 ? "" : ",") + json.string(logprobJSON(entry)))
                    entries += 1
                }
            }
            let finish: FinishReason
            switch followed {
            case let .finished(reason, u, _):
                finish = reason
                usage.promptTokens = u.promptTokens
                usage.completionTokens += u.completionTokens
                usage.reasoningTokens += u.reasoningTokens
                usage.cachedTokens = index == 0 ? u.cachedTokens : usage.cachedTokens
            case let .failed(message):
                return try fail(APIError(status: 500, type: "server_error", message: "generation failed: \(message)"))
            case .gone:
                body.abort()
                return outcome
            }
            let (reasoning, content, calls) = Self.answer(output, for: c.request, finish: finish)
            var message = JSONObject(["role": .string("assistant")])
            message["content"] = content.isEmpty && !calls.isEmpty ? .null : .string(content)
            // Moonshot's field for a reasoning model's thinking (K2-Thinking's <think> section).
            if let reasoning, c.request.includeReasoning { message["reasoning_content"] = .string(reasoning) }
            message["refusal"] = .null
            if !calls.isEmpty { message["tool_calls"] = .array(calls.map(Self.toolCallJSON)) }
            let reason = Self.finishReason(finish, toolCalls: !calls.isEmpty)
            outcome.finish = reason
            outcome.text = output.text
            body.append(
                (c.request.logprobs == nil ? "" : #"],"refusal":null}"#)
                    + #","message":\#(json.string(.object(message))),"finish_reason":"\#(reason)"}"#)
        }
        body.append(#"],"usage":\#(json.string(usageJSON(usage)))}"#)
        body.finish()
        outcome.usage = usage
        return outcome
    }

    /// A whole output's reasoning (nil: none), content and the calls returned to the client:
    /// those of declared functions, one at most without parallel_tool_calls, and a call cut off
    /// by max_tokens as far as it got (as a stream sends it).
    static func answer(
        _ output: [OutputPiece], for request: ChatCompletionRequest, finish: FinishReason
    ) -> (
        reasoning: String?, content: String, calls: [ToolCall]
    ) {
        let parsed = ToolCallParser.parse(request.forcedPrefix + output)
        let calls = parsed.toolCalls.filter { ($0.complete || finish == .length) && returnsCall(named: $0.name, for: request) }
        return (parsed.reasoning, parsed.content, request.parallelToolCalls ? calls : Array(calls.prefix(1)))
    }

    /// Whether a call of this function is returned: only functions the request declared (and
    /// not with tool_choice "none"). Any other call, whatever the model wrote, is dropped with
    /// its arguments; it is neither a tool call nor content.
    static func returnsCall(named name: String, for request: ChatCompletionRequest) -> Bool {
        request.toolChoice != .none && request.toolNames.contains(name)
    }

    /// OpenAI's finish_reason; "abort" (as vLLM) when shutdown cut the generation short.
    static func finishReason(_ finish: FinishReason, toolCalls: Bool) -> String {
        switch finish {
        case .length: return "length"
        case .aborted: return "abort"
        case .stop, .cancelled: return toolCalls ? "tool_calls" : "stop"
        }
    }

    /// A tool call as Chat Completions writes it: {"id", "type": "function", "function": {"name", "arguments"}}.
    public static func toolCallJSON(_ call: ToolCall) -> JSONValue {
        .object(
            JSONObject([
                "id": .string(call.id), "type": .string("function"),
                "function": .object(JSONObject(["name": .string(call.name), "arguments": .string(call.arguments)])),
            ]))
    }

    func usageJSON(_ u: Usage) -> JSONValue {
        .object(
            JSONObject([
                "prompt_tokens": JSONValue(u.promptTokens), "completion_tokens": JSONValue(u.completionTokens),
                "total_tokens": JSONValue(u.totalTokens),
                "prompt_tokens_details": .object(JSONObject(["cached_tokens": JSONValue(u.cachedTokens)])),
                "completion_tokens_details": .object(
                    JSONObject([
                        "reasoning_tokens": JSONValue(u.reasoningTokens), "accepted_prediction_tokens": JSONValue(0),
                        "rejected_prediction_tokens": JSONValue(0),
                    ])),
            ]))
    }

    func logprobsJSON(_ entries: [TokenLogprob]) -> JSONValue {
        .object(JSONObject(["content": .array(entries.map(logprobJSON)), "refusal": .null]))
    }

    /// One generated token's entry: its text, log-probability and bytes, and its alternatives'.
    func logprobJSON(_ entry: TokenLogprob) -> JSONValue {
        func token(_ id: Int, _ logprob: Float) -> JSONObject {
            let bytes = Array(tokenizer.bytes(of: id) ?? [])
            return JSONObject([
                "token": .string(String(decoding: bytes, as: UTF8.self)), "logprob": JSONValue(Double(logprob)),
                "bytes": .array(bytes.map { JSONValue(Int($0)) }),
            ])
        }
        var o = token(entry.token, entry.logprob)
        o["top_logprobs"] = .array(entry.top.map { .object(token($0.token, $0.logprob)) })
        return .object(o)
    }

    // MARK: - Streaming

    func stream(_ c: CompletionContext, _ handles: [GenerationHandle], _ writer: ResponseWriter) -> Outcome {
        var outcome = Outcome()
        var streamed: [OutputPiece] = []
        let events = writer.startEventStream()
        func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) {
            var o = JSONObject([
                "id": .string(c.id), "object": .string("chat.completion.chunk"), "created": JSONValue(c.created),
                "model": .string(c.model), "system_fingerprint": .string("kimi-serve"),
                "service_tier": .string(c.request.serviceTier), "choices": .array(choices),
            ])
            if c.request.includeUsage { o["usage"] = usage ?? .null }
            events.send(data: JSONWriter().string(.object(o)))
        }
        func choice(_ index: Int, delta: JSONObject, logprobs: [TokenLogprob] = [], finish: String? = nil) -> JSONValue {
            .object(
                JSONObject([
                    "index": JSONValue(index), "delta": .object(delta),
                    "logprobs": c.request.logprobs == nil || logprobs.isEmpty ? .null : logprobsJSON(logprobs),
                    "finish_reason": finish.map { .string($0) } ?? .null,
                ]))
        }
        var usage = Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        let keepAlive = KeepAlive(interval: configuration.pingInterval)
        for (index, handle) in handles.enumerated() {
            chunk([choice(index, delta: JSONObject(["role": .string("assistant"), "content": .string("")]))])
            var parser = StreamingToolCallParser()
            // The parser's index of each returned call → the index the client sees (0, 1, …).
            var returned: [Int: Int] = [:]
            var pendingLogprobs: [TokenLogprob] = []
            func emit(_ parsed: [StreamingToolCallParser.Event]) {
                for event in parsed {
                    switch event {
                    case let .reasoning(text):
                        guard c.request.includeReasoning else { continue }
                        chunk([choice(index, delta: JSONObject(["reasoning_content": .string(text)]), logprobs: pendingLogprobs)])
                        pendingLogprobs.removeAll()
                    case let .content(text):
                        chunk([choice(index, delta: JSONObject(["content": .string(text)]), logprobs: pendingLogprobs)])
                        pendingLogprobs.removeAll()
                    case let .callBegin(i, id, name):
                        guard Self.returnsCall(named: name, for: c.request), c.request.parallelToolCalls || returned.isEmpty else {
                            continue
                        }
                        returned[i] = returned.count
                        let call = JSONObject([
                            "index": JSONValue(returned[i]!), "id": .string(id), "type": .string("function"),
                            "function": .object(JSONObject(["name": .string(name), "arguments": .string("")])),
                        ])
                        chunk([choice(index, delta: JSONObject(["tool_calls": .array([.object(call)])]))])
                    case let .arguments(i, fragment):
                        guard let at = returned[i] else { continue }
                        let call = JSONObject(["index": JSONValue(at), "function": .object(JSONObject(["arguments": .string(fragment)]))])
                        chunk([choice(index, delta: JSONObject(["tool_calls": .array([.object(call)])]))])
                    case .callEnd:
                        break
                    }
                }
                keepAlive.wrote()
            }
            emit(parser.feed(c.request.forcedPrefix))
            let followed = follow(handle, clientGone: { events.clientGone }, idle: { keepAlive.ping(events) }, &outcome) {
                pieces, logprobs in
                streamed += pieces
                pendingLogprobs += logprobs
                emit(parser.feed(pieces))
            }
            let finish: FinishReason
            switch followed {
            case let .finished(reason, u, _):
                emit(parser.finish())
                if !pendingLogprobs.isEmpty {
                    chunk([choice(index, delta: JSONObject(["content": .string("")]), logprobs: pendingLogprobs)])
                }
                finish = reason
                usage.promptTokens = u.promptTokens
                usage.completionTokens += u.completionTokens
                usage.reasoningTokens += u.reasoningTokens
                if index == 0 { usage.cachedTokens = u.cachedTokens }
            case let .failed(message):
                Self.endStream(events, failure: message)
                outcome.finish = "error"
                return outcome
            case .gone:
                events.finish()
                outcome.usage = usage
                return outcome
            }
            let reason = Self.finishReason(finish, toolCalls: !returned.isEmpty)
            outcome.finish = reason
            chunk([choice(index, delta: JSONObject(), finish: reason)])
        }
        if c.request.includeUsage { chunk([], usage: usageJSON(usage)) }
        events.send(data: "[DONE]")
        events.finish()
        outcome.usage = usage
        outcome.text = streamed.text
        return outcome
    }
}

extension ChatCompletionRequest {
    /// The sampling fields (each choice's seed is set apart).
    var sampling: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topP = topP
        p.topK = topK
        p.presencePenalty = presencePenalty
        p.frequencyPenalty = frequencyPenalty
        p.repetitionPenalty = repetitionPenalty
        p.minP = minP
        p.minTokens = minTokens
        p.logitBias = logitBias
        return p
    }
}
