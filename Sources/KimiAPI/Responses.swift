import Foundation
import HTTPServer
import KimiJSON
import KimiServing
import KimiTokenizer

/// `POST /v1/responses`: the chat endpoint's path answered as a `response` object whose output
/// holds a `message` item (the text) and a `function_call` item per call, or as the Responses
/// API's semantic events (`response.created`, `response.output_item.added`,
/// `response.output_text.delta`, `response.function_call_arguments.delta`,
/// `response.output_item.done`, `response.completed` / `response.incomplete`, …). A response cut
/// by `max_output_tokens` is `incomplete`.
extension KimiAPI {
    func responses(_ http: HTTPRequest, _ writer: ResponseWriter, record: inout RequestRecord) throws {
        let start = ProcessInfo.processInfo.systemUptime
        let responses = try ResponsesRequest(json: try jsonBody(http))
        let request = try ChatCompletionRequest(json: responses.chat, vocabSize: tokenizer.vocabSize)
        let prepared = try prepare(request)
        let context = CompletionContext(
            id: "resp_" + Self.randomID(), created: Int(Date().timeIntervalSince1970),
            model: try servedModel(request.model), request: request, start: start)
        record.id = context.id
        logPrompt(prepared, id: context.id)
        let handle = try submit(prepared.generation(0))
        let outcome =
            responses.stream ? streamResponse(context, responses, handle, writer) : completeResponse(context, responses, handle, writer)
        record.finish(with: outcome, start: start)
        logOutput(outcome, id: context.id)
    }

    /// The `response` object; `status` in_progress, completed or incomplete.
    func responseJSON(_ c: CompletionContext, _ r: ResponsesRequest, status: String, output: [JSONValue], usage: Usage?) -> JSONObject {
        var tools: [JSONValue] = []
        for (i, name) in c.request.toolNames.enumerated() {
            tools.append(
                .object(
                    JSONObject([
                        "type": .string("function"), "name": .string(name),
                        "parameters": c.request.toolSchemas[i].parameters ?? .null,
                        "strict": .bool(c.request.toolSchemas[i].strict),
                    ])))
        }
        let choice: JSONValue
        switch c.request.toolChoice {
        case .none: choice = .string("none")
        case .auto: choice = .string("auto")
        case .required: choice = .string("required")
        case let .function(name): choice = .object(JSONObject(["type": .string("function"), "name": .string(name)]))
        }
        return JSONObject([
            "id": .string(c.id), "object": .string("response"), "created_at": JSONValue(c.created), "status": .string(status),
            "error": .null,
            "incomplete_details": status == "incomplete" ? .object(JSONObject(["reason": .string("max_output_tokens")])) : .null,
            "instructions": r.instructions, "max_output_tokens": c.request.maxTokens.map { JSONValue($0) } ?? .null,
            "model": .string(c.model),
            "output": .array(output), "parallel_tool_calls": .bool(c.request.parallelToolCalls), "previous_response_id": .null,
            "store": .bool(false), "temperature": JSONValue(Double(c.request.temperature)),
            "text": .object(JSONObject(["format": r.textFormat])),
            "tool_choice": choice, "tools": .array(tools), "top_p": JSONValue(Double(c.request.topP)), "truncation": .string("disabled"),
            "metadata": r.metadata,
            "usage": usage.map { u in
                .object(
                    JSONObject([
                        "input_tokens": JSONValue(u.promptTokens),
                        "input_tokens_details": .object(JSONObject(["cached_tokens": JSONValue(u.cachedTokens)])),
                        "output_tokens": JSONValue(u.completionTokens),
                        "output_tokens_details": .object(JSONObject(["reasoning_tokens": JSONValue(u.reasoningTokens)])),
                        "total_tokens": JSONValue(u.totalTokens),
                    ]))
            } ?? .null,
        ])
    }

    static func messageItem(id: String, text: String, status: String) -> JSONValue {
        .object(
            JSONObject([
                "type": .string("message"), "id": .string(id), "status": .string(status), "role": .string("assistant"),
                "content": .array(status == "in_progress" ? [] : [outputText(text)]),
            ]))
    }

    /// A reasoning model's thinking as an output item (its text as one `reasoning_text` part, as
    /// open-weight models' reasoning is returned; no summary).
    static func reasoningItem(id: String, text: String, status: String) -> JSONValue {
        .object(
            JSONObject([
                "type": .string("reasoning"), "id": .string(id), "status": .string(status), "summary": .array([]),
                "content": .array(
                    status == "in_progress" ? [] : [.object(JSONObject(["type": .string("reasoning_text"), "text": .string(text)]))]),
            ]))
    }

    static func outputText(_ text: String) -> JSONValue {
        .object(JSONObject(["type": .string("output_text"), "text": .string(text), "annotations": .array([])]))
    }

    static func functionCallItem(id: String, callID: String, name: String, arguments: String, status: String) -> JSONValue {
        .object(
            JSONObject([
                "type": .string("function_call"), "id": .string(id), "call_id": .string(callID), "name": .string(name),
                "arguments": .string(arguments), "status": .string(status),
            ]))
    }

    // MARK: - Non-streaming

    func completeResponse(_ c: CompletionContext, _ r: ResponsesRequest, _ handle: GenerationHandle, _ writer: ResponseWriter) -> Outcome {
        var outcome = Outcome()
        switch collect(handle, writer, &outcome) {
        case let .finished(output, reason, usage, _):
            let (reasoning, text, calls) = Self.answer(output, for: c.request, finish: reason)
            var items: [JSONValue] = []
            if let reasoning { items.append(Self.reasoningItem(id: "rs_" + Self.randomID(), text: reasoning, status: "completed")) }
            if !text.isEmpty { items.append(Self.messageItem(id: "msg_" + Self.randomID(), text: text, status: "completed")) }
            items += calls.map {
                Self.functionCallItem(
                    id: "fc_" + Self.randomID(), callID: $0.id, name: $0.name, arguments: $0.arguments, status: "completed")
            }
            let status = reason == .length ? "incomplete" : "completed"
            writer.send(
                HTTPResponse(
                    status: 200, contentType: "application/json",
                    body: JSONWriter().string(.object(responseJSON(c, r, status: status, output: items, usage: usage)))))
            outcome.usage = usage
            outcome.finish = Self.finishReason(reason, toolCalls: !calls.isEmpty)
            outcome.text = output.text
        case let .failed(message):
            writer.send(APIError(status: 500, type: "server_error", message: "generation failed: \(message)").response)
            outcome.finish = "error"
        case .gone:
            break
        }
        return outcome
    }

    // MARK: - Streaming

    func streamResponse(_ c: CompletionContext, _ r: ResponsesRequest, _ handle: GenerationHandle, _ writer: ResponseWriter) -> Outcome {
        var outcome = Outcome()
        var streamed: [OutputPiece] = []
        let events = writer.startEventStream()
        var sequence = 0
        let keepAlive = KeepAlive(interval: configuration.pingInterval)
        func send(_ type: String, _ fields: JSONObject) {
            var o = fields
            o["type"] = .string(type)
            o["sequence_number"] = JSONValue(sequence)
            sequence += 1
            events.send(event: type, data: JSONWriter().string(.object(o)))
            keepAlive.wrote()
        }
        let initial = responseJSON(c, r, status: "in_progress", output: [], usage: nil)
        send("response.created", JSONObject(["response": .object(initial)]))
        send("response.in_progress", JSONObject(["response": .object(initial)]))
        /// What an open output item is.
        enum Kind: Equatable {
            case message, reasoning
            case call(callID: String, name: String)
        }
        // The finished items, and the open one with its text so far: a message's text, the
        // reasoning, or a call's arguments.
        var items: [JSONValue] = []
        var open: (id: String, kind: Kind, text: String)?
        func close() {
            guard let item = open else { return }
            let index = JSONValue(items.count)
            let done: JSONValue
            switch item.kind {
            case .reasoning:
                done = Self.reasoningItem(id: item.id, text: item.text, status: "completed")
                send(
                    "response.reasoning_text.done",
                    JSONObject([
                        "item_id": .string(item.id), "output_index": index, "content_index": JSONValue(0), "text": .string(item.text),
                    ]))
            case let .call(callID, name):
                done = Self.functionCallItem(id: item.id, callID: callID, name: name, arguments: item.text, status: "completed")
                send(
                    "response.function_call_arguments.done",
                    JSONObject(["item_id": .string(item.id), "output_index": index, "arguments": .string(item.text)]))
            case .message:
                done = Self.messageItem(id: item.id, text: item.text, status: "completed")
                let where_ = JSONObject(["item_id": .string(item.id), "output_index": index, "content_index": JSONValue(0)])
                send("response.output_text.done", where_.merging(["text": .string(item.text)]))
                send("response.content_part.done", where_.merging(["part": Self.outputText(item.text)]))
            }
            send("response.output_item.done", JSONObject(["output_index": index, "item": done]))
            items.append(done)
            open = nil
        }
        /// Closes the open item and opens `item` (id `id`) of this kind.
        func begin(_ kind: Kind, id: String, item: JSONValue) {
            close()
            open = (id, kind, "")
            send("response.output_item.added", JSONObject(["output_index": JSONValue(items.count), "item": item]))
        }
        /// Adds `text` to the open item and sends it as a `type` event (with content_index 0, but
        /// for a call's arguments).
        func delta(_ type: String, _ text: String) {
            open!.text += text
            var fields = JSONObject(["item_id": .string(open!.id), "output_index": JSONValue(items.count)])
            if case .call = open!.kind {} else { fields["content_index"] = JSONValue(0) }
            fields["delta"] = .string(text)
            send(type, fields)
        }
        var callOpen: Bool {
            if case .call? = open?.kind { return true }
            return false
        }
        var parser = StreamingToolCallParser()
        var returned: Set<Int> = []
        func emit(_ parsed: [StreamingToolCallParser.Event]) {
            for event in parsed {
                switch event {
                case let .reasoning(text):
                    if open?.kind != .reasoning {
                        let id = "rs_" + Self.randomID()
                        begin(.reasoning, id: id, item: Self.reasoningItem(id: id, text: "", status: "in_progress"))
                    }
                    delta("response.reasoning_text.delta", text)
                case let .content(text):
                    if open?.kind != .message {
                        let id = "msg_" + Self.randomID()
                        begin(.message, id: id, item: Self.messageItem(id: id, text: "", status: "in_progress"))
                        send(
                            "response.content_part.added",
                            JSONObject([
                                "item_id": .string(id), "output_index": JSONValue(items.count),
                                "content_index": JSONValue(0), "part": Self.outputText(""),
                            ]))
                    }
                    delta("response.output_text.delta", text)
                case let .callBegin(i, callID, name):
                    guard Self.returnsCall(named: name, for: c.request), c.request.parallelToolCalls || returned.isEmpty else { continue }
                    returned.insert(i)
                    let id = "fc_" + Self.randomID()
                    begin(
                        .call(callID: callID, name: name), id: id,
                        item: Self.functionCallItem(id: id, callID: callID, name: name, arguments: "", status: "in_progress"))
                case let .arguments(i, fragment):
                    guard returned.contains(i), callOpen else { continue }
                    delta("response.function_call_arguments.delta", fragment)
                case let .callEnd(i, _):
                    if returned.contains(i), callOpen { close() }
                }
            }
        }
        emit(parser.feed(c.request.forcedPrefix))
        let followed = follow(handle, clientGone: { events.clientGone }, idle: { keepAlive.ping(events) }, &outcome) { pieces, _ in
            streamed += pieces
            emit(parser.feed(pieces))
        }
        switch followed {
        case let .finished(reason, usage, _):
            emit(parser.finish())
            close()
            let status = reason == .length ? "incomplete" : "completed"
            send(
                status == "completed" ? "response.completed" : "response.incomplete",
                JSONObject(["response": .object(responseJSON(c, r, status: status, output: items, usage: usage))]))
            outcome.usage = usage
            outcome.finish = Self.finishReason(reason, toolCalls: !returned.isEmpty)
        case let .failed(message):
            send(
                "error",
                JSONObject(["code": .string("server_error"), "message": .string("generation failed: \(message)"), "param": .null]))
            outcome.finish = "error"
        case .gone:
            break
        }
        events.finish()
        outcome.text = streamed.text
        return outcome
    }
}

extension JSONObject {
    /// This object with `other`'s keys added.
    func merging(_ other: [String: JSONValue]) -> JSONObject {
        var o = self
        for (k, v) in other { o[k] = v }
        return o
    }
}
