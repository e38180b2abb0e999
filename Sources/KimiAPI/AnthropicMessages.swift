import Foundation
import HTTPServer
import KimiJSON
import KimiServing
import KimiTokenizer

/// `POST /v1/messages` and `/v1/messages/count_tokens` (Anthropic Messages): the chat
/// endpoint's prompt, engine and tool parser, answered as a `message` or as Anthropic's event
/// stream (`message_start`, `content_block_start` / `_delta` / `_stop` per block, `message_delta`,
/// `message_stop`, `ping`). Usage counts as Anthropic does: `input_tokens` are the prompt tokens
/// computed, `cache_read_input_tokens` those taken from the prefix cache.
extension KimiAPI {
    func messages(_ http: HTTPRequest, _ writer: ResponseWriter, record: inout RequestRecord) throws {
        let start = ProcessInfo.processInfo.systemUptime
        let anthropic = try AnthropicRequest(json: try jsonBody(http))
        let request: ChatCompletionRequest
        let prepared: Prepared
        do {
            request = try ChatCompletionRequest(json: anthropic.chat, vocabSize: tokenizer.vocabSize)
            prepared = try prepare(request)
        } catch let error as APIError {
            throw AnthropicRequest.anthropicTerms(error)
        }
        let context = CompletionContext(
            id: "msg_" + Self.randomID(), created: Int(Date().timeIntervalSince1970),
            model: try servedModel(request.model), request: request, start: start)
        record.id = context.id
        logPrompt(prepared, id: context.id)
        let handle = try submit(prepared.generation(0))
        let outcome =
            anthropic.stream
            ? streamMessage(context, handle, promptTokens: prepared.promptTokens.count, writer)
            : completeMessage(context, handle, writer)
        record.finish(with: outcome, start: start)
        logOutput(outcome, id: context.id)
    }

    func countTokens(_ http: HTTPRequest, _ writer: ResponseWriter) throws {
        let anthropic = try AnthropicRequest(json: try jsonBody(http), counting: true)
        let count: Int
        do { count = try chatTokens(anthropic.chat, addGenerationPrompt: true).count } catch let error as APIError {
            throw AnthropicRequest.anthropicTerms(error)
        }
        writer.send(HTTPResponse(status: 200, contentType: "application/json", body: #"{"input_tokens":\#(count)}"#))
    }

    /// Anthropic's stop_reason and stop_sequence.
    static func stopReason(_ finish: FinishReason, stopString: String?, toolUse: Bool) -> (String, String?) {
        switch finish {
        case .length: return ("max_tokens", nil)
        case .stop where stopString != nil: return ("stop_sequence", stopString)
        case .stop, .cancelled, .aborted: return (toolUse ? "tool_use" : "end_turn", nil)
        }
    }

    static func anthropicUsage(_ u: Usage) -> JSONObject {
        JSONObject([
            "input_tokens": JSONValue(u.promptTokens - u.cachedTokens), "output_tokens": JSONValue(u.completionTokens),
            "cache_read_input_tokens": JSONValue(u.cachedTokens), "cache_creation_input_tokens": JSONValue(0),
        ])
    }

    /// A tool_use block's `input`: the call's arguments, which guided tool calls make a JSON
    /// object (unguided arguments that are not one are given as an empty object).
    static func toolUseBlock(id: String, name: String, arguments: String) -> JSONValue {
        let input = (try? JSONParser.parse(Array(arguments.utf8))).flatMap { $0.object != nil ? $0 : nil } ?? .object(JSONObject())
        return .object(JSONObject(["type": .string("tool_use"), "id": .string(id), "name": .string(name), "input": input]))
    }

    func messageJSON(_ c: CompletionContext, content: [JSONValue], stop: (String, String?)?, usage: Usage) -> JSONObject {
        JSONObject([
            "id": .string(c.id), "type": .string("message"), "role": .string("assistant"), "model": .string(c.model),
            "content": .array(content), "stop_reason": stop.map { .string($0.0) } ?? .null,
            "stop_sequence": stop?.1.map { .string($0) } ?? .null, "usage": .object(Self.anthropicUsage(usage)),
        ])
    }

    // MARK: - Non-streaming

    func completeMessage(_ c: CompletionContext, _ handle: GenerationHandle, _ writer: ResponseWriter) -> Outcome {
        var outcome = Outcome()
        switch collect(handle, writer, &outcome) {
        case let .finished(output, reason, usage, stopString):
            let (reasoning, text, calls) = Self.answer(output, for: c.request, finish: reason)
            var content: [JSONValue] = []
            if let reasoning, c.request.includeReasoning {
                // Anthropic signs its thinking so that it can be checked when sent back; nothing is checked here.
                content.append(
                    .object(JSONObject(["type": .string("thinking"), "thinking": .string(reasoning), "signature": .string("")])))
            }
            if !text.isEmpty { content.append(.object(JSONObject(["type": .string("text"), "text": .string(text)]))) }
            content += calls.map { Self.toolUseBlock(id: $0.id, name: $0.name, arguments: $0.arguments) }
            let stop = Self.stopReason(reason, stopString: stopString, toolUse: !calls.isEmpty)
            writer.send(
                HTTPResponse(
                    status: 200, contentType: "application/json",
                    body: JSONWriter().string(.object(messageJSON(c, content: content, stop: stop, usage: usage)))))
            outcome.usage = usage
            outcome.finish = stop.0
            outcome.text = output.text
        case let .failed(message):
            writer.send(APIError(status: 500, type: "server_error", message: "generation failed: \(message)").anthropicResponse)
            outcome.finish = "error"
        case .gone:
            break
        }
        return outcome
    }

    // MARK: - Streaming

    func streamMessage(_ c: CompletionContext, _ handle: GenerationHandle, promptTokens: Int, _ writer: ResponseWriter) -> Outcome {
        var outcome = Outcome()
        var streamed: [OutputPiece] = []
        let events = writer.startEventStream()
        let keepAlive = KeepAlive(interval: configuration.pingInterval)
        func send(_ type: String, _ fields: JSONObject) {
            var o = fields
            o["type"] = .string(type)
            events.send(event: type, data: JSONWriter().string(.object(o)))
            keepAlive.wrote()
        }
        var started = false
        func start(cached: Int) {
            guard !started else { return }
            started = true
            let usage = Usage(promptTokens: promptTokens, completionTokens: 0, cachedTokens: cached)
            send("message_start", JSONObject(["message": .object(messageJSON(c, content: [], stop: nil, usage: usage))]))
            send("ping", JSONObject())
        }
        // The open block's index and type ("text", "thinking", "tool_use"); blocks are numbered
        // from 0 in order.
        var block: (index: Int, type: String)?
        var blocks = 0
        func open(_ contentBlock: JSONValue) {
            close()
            block = (blocks, contentBlock["type"]?.string ?? "")
            send("content_block_start", JSONObject(["index": JSONValue(blocks), "content_block": contentBlock]))
            blocks += 1
        }
        func close() {
            guard let open = block else { return }
            send("content_block_stop", JSONObject(["index": JSONValue(open.index)]))
            block = nil
        }
        var parser = StreamingToolCallParser()
        var returned: [Int: Int] = [:]  // the parser's call index → its block index
        func emit(_ parsed: [StreamingToolCallParser.Event]) {
            for event in parsed {
                switch event {
                case let .reasoning(text):
                    guard c.request.includeReasoning else { continue }
                    if block?.type != "thinking" {
                        open(.object(JSONObject(["type": .string("thinking"), "thinking": .string(""), "signature": .string("")])))
                    }
                    send(
                        "content_block_delta",
                        JSONObject([
                            "index": JSONValue(block!.index),
                            "delta": .object(JSONObject(["type": .string("thinking_delta"), "thinking": .string(text)])),
                        ]))
                case let .content(text):
                    if block?.type != "text" {
                        open(.object(JSONObject(["type": .string("text"), "text": .string("")])))
                    }
                    send(
                        "content_block_delta",
                        JSONObject([
                            "index": JSONValue(block!.index),
                            "delta": .object(JSONObject(["type": .string("text_delta"), "text": .string(text)])),
                        ]))
                case let .callBegin(i, id, name):
                    guard Self.returnsCall(named: name, for: c.request), c.request.parallelToolCalls || returned.isEmpty else { continue }
                    open(
                        .object(
                            JSONObject([
                                "type": .string("tool_use"), "id": .string(id), "name": .string(name), "input": .object(JSONObject()),
                            ])))
                    returned[i] = block!.index
                case let .arguments(i, fragment):
                    guard let at = returned[i] else { continue }
                    send(
                        "content_block_delta",
                        JSONObject([
                            "index": JSONValue(at),
                            "delta": .object(JSONObject(["type": .string("input_json_delta"), "partial_json": .string(fragment)])),
                        ]))
                case let .callEnd(i, _):
                    if let at = returned[i], block?.index == at { close() }
                }
            }
        }
        let followed = follow(
            handle, clientGone: { events.clientGone },
            idle: {
                // Anthropic's own ping event once the message has started; a comment before it.
                guard keepAlive.isDue else { return }
                if started { send("ping", JSONObject()) } else { keepAlive.ping(events) }
            }, &outcome,
            started: { cached in
                start(cached: cached)
                emit(parser.feed(c.request.forcedPrefix))
            }
        ) { pieces, _ in
            streamed += pieces
            emit(parser.feed(pieces))
        }
        switch followed {
        case let .finished(reason, usage, stopString):
            start(cached: usage.cachedTokens)
            emit(parser.finish())
            close()
            let stop = Self.stopReason(reason, stopString: stopString, toolUse: !returned.isEmpty)
            send(
                "message_delta",
                JSONObject([
                    "delta": .object(
                        JSONObject(["stop_reason": .string(stop.0), "stop_sequence": stop.1.map { .string($0) } ?? .null])),
                    "usage": .object(Self.anthropicUsage(usage)),
                ]))
            send("message_stop", JSONObject())
            outcome.usage = usage
            outcome.finish = stop.0
        case let .failed(message):
            send(
                "error",
                JSONObject([
                    "error": .object(JSONObject(["type": .string("api_error"), "message": .string("generation failed: \(message)")]))
                ]))
            outcome.finish = "error"
        case .gone:
            break
        }
        events.finish()
        outcome.text = streamed.text
        return outcome
    }
}
