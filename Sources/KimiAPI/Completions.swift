import Foundation
import HTTPServer
import KimiJSON
import KimiServing
import KimiTokenizer

/// `POST /v1/completions` (OpenAI's legacy completions): the prompt is raw text in which Kimi's
/// special tokens are read as such (a caller that renders the chat template itself, as the K2
/// Vendor Verifier's raw mode does, gets the chat endpoint's prompt), or token ids; the output
/// is raw text with tool-call markers written as their tokens' text, nothing parsed or
/// constrained. `prompt` may be a list of prompts (each gets `n` choices, numbered prompt by
/// prompt). `suffix` is a 400: the model has no fill-in-the-middle mode.
extension KimiAPI {
    struct CompletionsRequest {
        var model: String?
        var prompts: [[Int]]
        var maxTokens: Int
        var sampling: SamplingParameters
        var seed: UInt64?
        var n: Int
        var stop: [String]
        /// nil: no logprobs; else the alternatives per token (0...5).
        var logprobs: Int?
        var echo: Bool
        var stream: Bool
        var includeUsage: Bool
    }

    func completionsRequest(_ body: JSONValue) throws -> CompletionsRequest {
        guard let o = body.object else { throw APIError.invalid("", "the request body must be a JSON object", code: "invalid_json") }
        if let s = o["suffix"], !s.isNull {
            throw APIError.unsupported("suffix", "'suffix' is not supported: Kimi K2 has no fill-in-the-middle mode")
        }
        // The sampling fields are read as the chat endpoint reads them, from a chat body holding them.
        var chatBody = JSONObject()
        for key in [
            "model", "max_tokens", "temperature", "top_p", "top_k", "n", "stop", "seed", "presence_penalty",
            "frequency_penalty", "repetition_penalty", "min_p", "min_tokens", "logit_bias", "stream", "stream_options",
        ] {
            if let v = o[key] { chatBody[key] = v }
        }
        chatBody["messages"] = .array([.object(JSONObject(["role": .string("user"), "content": .string("")]))])
        let chat = try ChatCompletionRequest(json: .object(chatBody), vocabSize: tokenizer.vocabSize)
        func ids(_ list: [JSONValue], _ path: String) throws -> [Int] {
            try list.enumerated().map { i, v in
                guard let id = v.int, id >= 0, id < tokenizer.vocabSize else {
                    throw APIError.invalid(
                        "\(path)[\(i)]", "'\(path)[\(i)]' must be a token id of this model (0 to \(tokenizer.vocabSize - 1))")
                }
                return id
            }
        }
        var prompts: [[Int]]
        switch o["prompt"] {
        case let .string(text)?: prompts = [tokenizer.encode(text)]
        case let .array(list)? where !list.isEmpty && list.allSatisfy({ $0.int != nil }): prompts = [try ids(list, "prompt")]
        case let .array(list)? where !list.isEmpty:
            prompts = try list.enumerated().map { i, p in
                if let text = p.string { return tokenizer.encode(text) }
                if let l = p.array, !l.isEmpty { return try ids(l, "prompt[\(i)]") }
                throw APIError.invalid("prompt[\(i)]", "'prompt[\(i)]' must be a string or a non-empty array of token ids")
            }
        case nil, .null?: throw APIError.invalid("prompt", "'prompt' is required", code: "missing_required_parameter")
        default: throw APIError.invalid("prompt", "'prompt' must be a string, an array of strings, or token ids")
        }
        guard prompts.count * chat.n <= ChatCompletionRequest.maxN else {
            throw APIError.invalid("prompt", "at most \(ChatCompletionRequest.maxN) choices per request (prompts × n)")
        }
        if prompts.contains(where: \.isEmpty) { throw APIError.invalid("prompt", "a prompt must not be empty") }
        var logprobs: Int?
        if let l = o["logprobs"], !l.isNull {
            guard let k = l.int, (0...5).contains(k) else {
                throw APIError.invalid("logprobs", "'logprobs' must be an integer from 0 to 5")
            }
            logprobs = k
        }
        var echo = false
        if let e = o["echo"], !e.isNull {
            guard let b = e.bool else { throw APIError.invalid("echo", "'echo' must be true or false") }
            echo = b
        }
        return CompletionsRequest(
            model: chat.model, prompts: prompts, maxTokens: chat.maxTokens ?? 16, sampling: chat.sampling, seed: chat.seed,
            n: chat.n, stop: chat.stop, logprobs: logprobs, echo: echo, stream: chat.stream, includeUsage: chat.includeUsage)
    }

    func completions(_ http: HTTPRequest, _ writer: ResponseWriter, record: inout RequestRecord) throws {
        let start = ProcessInfo.processInfo.systemUptime
        let request = try completionsRequest(try jsonBody(http))
        let model = try servedModel(request.model)
        for prompt in request.prompts where request.maxTokens > configuration.maxModelLen - prompt.count {
            throw APIError(
                status: 400, type: "invalid_request_error",
                message:
                    "This model's maximum context length is \(configuration.maxModelLen) tokens. However, you requested \(Decimal(prompt.count) + Decimal(request.maxTokens)) tokens (\(prompt.count) in your prompt; \(request.maxTokens) for the completion). Please reduce your prompt; or completion length.",
                param: "prompt", code: "context_length_exceeded")
        }
        let seed = request.seed ?? UInt64.random(in: 0...UInt64.max)
        // Choice k is prompt k / n's choice k % n.
        let generations = request.prompts.flatMap { prompt in (0..<request.n).map { _ in prompt } }.enumerated().map { k, prompt in
            var s = request.sampling
            s.seed = seed &+ UInt64(k % request.n)
            return GenerationRequest(
                prompt: prompt, sampling: s, maxTokens: request.maxTokens, stopTokens: stopTokens,
                stopStrings: request.stop, logprobs: request.logprobs, grammar: nil)
        }
        let id = "cmpl-" + Self.randomID()
        record.id = id
        // All choices run at once, as one batch sharing each prompt's cache.
        let handles = try submitAll(generations)
        defer { handles.forEach { $0.cancel() } }
        let outcome =
            request.stream
            ? streamCompletions(request, id: id, model: model, handles, writer)
            : completeCompletions(request, id: id, model: model, handles, writer)
        record.finish(with: outcome, start: start)
    }

    /// The echoed prompt text of choice `k`.
    func echoText(_ request: CompletionsRequest, _ k: Int) -> String {
        request.echo ? tokenizer.decode(request.prompts[k / request.n]) : ""
    }

    /// OpenAI's legacy logprobs: each token's text, log-probability, top alternatives by text,
    /// and its offset in the choice's text.
    func legacyLogprobs(_ entries: [TokenLogprob], offset: Int) -> JSONValue {
        var at = offset
        var tokens: [JSONValue] = [], values: [JSONValue] = [], tops: [JSONValue] = [], offsets: [JSONValue] = []
        for e in entries {
            let text = String(decoding: tokenizer.bytes(of: e.token) ?? [], as: UTF8.self)
            tokens.append(.string(text))
            values.append(JSONValue(Double(e.logprob)))
            var top = JSONObject()
            for alt in e.top { top[String(decoding: tokenizer.bytes(of: alt.token) ?? [], as: UTF8.self)] = JSONValue(Double(alt.logprob)) }
            tops.append(.object(top))
            offsets.append(JSONValue(at))
            at += text.utf8.count
        }
        return .object(
            JSONObject([
                "tokens": .array(tokens), "token_logprobs": .array(values), "top_logprobs": .array(tops),
                "text_offset": .array(offsets),
            ]))
    }

    func completeCompletions(
        _ request: CompletionsRequest, id: String, model: String, _ handles: [GenerationHandle],
        _ writer: ResponseWriter
    ) -> Outcome {
        var outcome = Outcome()
        var usage = Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        var choices: [JSONValue] = []
        for (k, handle) in handles.enumerated() {
            var text = echoText(request, k)
            let echoed = text.utf8.count
            var entries: [TokenLogprob] = []
            let followed = follow(handle, clientGone: { writer.clientGone }, &outcome) { pieces, logprobs in
                text += pieces.text
                entries += logprobs
            }
            let finish: FinishReason
            switch followed {
            case let .finished(reason, u, _):
                finish = reason
                usage.add(u, countingPrompt: k % request.n == 0)
            case let .failed(message):
                writer.send(APIError(status: 500, type: "server_error", message: "generation failed: \(message)").response)
                outcome.finish = "error"
                return outcome
            case .gone:
                return outcome
            }
            let reason = Self.finishReason(finish, toolCalls: false)
            outcome.finish = reason
            choices.append(
                .object(
                    JSONObject([
                        "text": .string(text), "index": JSONValue(k),
                        "logprobs": request.logprobs == nil ? .null : legacyLogprobs(entries, offset: echoed),
                        "finish_reason": .string(reason),
                    ])))
        }
        let body = JSONObject([
            "id": .string(id), "object": .string("text_completion"), "created": JSONValue(Int(Date().timeIntervalSince1970)),
            "model": .string(model), "system_fingerprint": .string("kimi-serve"), "choices": .array(choices),
            "usage": usageJSON(usage),
        ])
        writer.send(HTTPResponse(status: 200, contentType: "application/json", body: JSONWriter().string(.object(body))))
        outcome.usage = usage
        return outcome
    }

    func streamCompletions(
        _ request: CompletionsRequest, id: String, model: String, _ handles: [GenerationHandle],
        _ writer: ResponseWriter
    ) -> Outcome {
        var outcome = Outcome()
        let events = writer.startEventStream()
        let keepAlive = KeepAlive(interval: configuration.pingInterval)
        let created = Int(Date().timeIntervalSince1970)
        func chunk(_ choices: [JSONValue], usage: JSONValue? = nil) {
            var o = JSONObject([
                "id": .string(id), "object": .string("text_completion"), "created": JSONValue(created),
                "model": .string(model), "system_fingerprint": .string("kimi-serve"), "choices": .array(choices),
            ])
            if request.includeUsage { o["usage"] = usage ?? .null }
            events.send(data: JSONWriter().string(.object(o)))
            keepAlive.wrote()
        }
        func choice(_ k: Int, _ text: String, logprobs: JSONValue = .null, finish: String? = nil) -> JSONValue {
            .object(
                JSONObject([
                    "text": .string(text), "index": JSONValue(k), "logprobs": logprobs,
                    "finish_reason": finish.map { .string($0) } ?? .null,
                ]))
        }
        var usage = Usage(promptTokens: 0, completionTokens: 0, cachedTokens: 0)
        // Choices stream one after another; all of them run in the engine at once.
        for (k, handle) in handles.enumerated() {
            var offset = 0
            if request.echo {
                let text = echoText(request, k)
                chunk([choice(k, text)])
                offset = text.utf8.count
            }
            let followed = follow(handle, clientGone: { events.clientGone }, idle: { keepAlive.ping(events) }, &outcome) {
                pieces, logprobs in
                let text = pieces.text
                chunk([choice(k, text, logprobs: request.logprobs == nil ? .null : legacyLogprobs(logprobs, offset: offset))])
                offset += text.utf8.count
            }
            let finish: FinishReason
            switch followed {
            case let .finished(reason, u, _):
                finish = reason
                usage.add(u, countingPrompt: k % request.n == 0)
            case let .failed(message):
                Self.endStream(events, failure: message)
                outcome.finish = "error"
                return outcome
            case .gone:
                events.finish()
                return outcome
            }
            let reason = Self.finishReason(finish, toolCalls: false)
            outcome.finish = reason
            chunk([choice(k, "", finish: reason)])
        }
        if request.includeUsage { chunk([], usage: usageJSON(usage)) }
        events.send(data: "[DONE]")
        events.finish()
        outcome.usage = usage
        return outcome
    }
}

extension Usage {
    /// Adds one choice's usage; the prompt's tokens only with `countingPrompt`, for the first of
    /// the choices that share a prompt.
    mutating func add(_ choice: Usage, countingPrompt: Bool) {
        if countingPrompt {
            promptTokens += choice.promptTokens
            cachedTokens += choice.cachedTokens
        }
        completionTokens += choice.completionTokens
    }
}
