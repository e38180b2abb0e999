import HTTPServer
import KimiJSON
import KimiTokenizer

/// Token counting without generating: vLLM's `POST /tokenize` and `/detokenize`, and Moonshot's
/// `POST /v1/tokenizers/estimate-token-count`. A chat's tokens are those the chat endpoint would
/// prefill for the same messages and tools.
extension KimiAPI {
    /// `{"prompt": text}` (special tokens written in the text are read as such, as in the raw
    /// completions endpoint) or a chat body (`messages`, `tools`, `add_generation_prompt`,
    /// `continue_final_message`) → `{"count", "max_model_len", "tokens", "token_strs"}`.
    func tokenize(_ http: HTTPRequest, _ writer: ResponseWriter) throws {
        let body = try jsonBody(http)
        guard let o = body.object else { throw APIError.invalid("", "the request body must be a JSON object", code: "invalid_json") }
        let tokens: [Int]
        if let prompt = o["prompt"], !prompt.isNull {
            guard let text = prompt.string else { throw APIError.invalid("prompt", "'prompt' must be a string") }
            _ = try servedModel(o["model"]?.string)
            tokens = tokenizer.encode(text)
        } else {
            tokens = try chatTokens(body, addGenerationPrompt: o["add_generation_prompt"]?.bool ?? true)
        }
        var answer = JSONObject([
            "count": JSONValue(tokens.count), "max_model_len": JSONValue(configuration.maxModelLen),
            "tokens": .array(tokens.map { JSONValue($0) }), "token_strs": .null,
        ])
        if o["return_token_strs"]?.bool == true {
            answer["token_strs"] = .array(tokens.map { .string(String(decoding: tokenizer.bytes(of: $0) ?? [], as: UTF8.self)) })
        }
        writer.send(HTTPResponse(status: 200, contentType: "application/json", body: JSONWriter().string(.object(answer))))
    }

    /// `{"tokens": [ids]}` → `{"prompt": text}`.
    func detokenize(_ http: HTTPRequest, _ writer: ResponseWriter) throws {
        let body = try jsonBody(http)
        _ = try servedModel(body["model"]?.string)
        guard let list = body["tokens"]?.array else { throw APIError.invalid("tokens", "'tokens' must be an array of token ids") }
        let ids = try list.enumerated().map { i, v -> Int in
            guard let id = v.int, id >= 0, id < tokenizer.vocabSize else {
                throw APIError.invalid("tokens[\(i)]", "'tokens[\(i)]' must be a token id of this model (0 to \(tokenizer.vocabSize - 1))")
            }
            return id
        }
        writer.send(
            HTTPResponse(
                status: 200, contentType: "application/json",
                body: JSONWriter().string(.object(JSONObject(["prompt": .string(tokenizer.decode(ids))])))))
    }

    /// Moonshot's `{"model", "messages"}` → `{"data": {"total_tokens": N}}`.
    func estimateTokenCount(_ http: HTTPRequest, _ writer: ResponseWriter) throws {
        let count = try chatTokens(try jsonBody(http), addGenerationPrompt: true).count
        writer.send(HTTPResponse(status: 200, contentType: "application/json", body: #"{"data":{"total_tokens":\#(count)}}"#))
    }

    /// The prompt tokens of a chat body, validated as the chat endpoint validates it (with the
    /// generation prompt, also the start of the answer that tool_choice imposes).
    func chatTokens(_ body: JSONValue, addGenerationPrompt: Bool) throws -> [Int] {
        let request = try ChatCompletionRequest(json: body, vocabSize: tokenizer.vocabSize)
        _ = try servedModel(request.model)
        let open = addGenerationPrompt && !request.continuesFinalMessage
        let prompt = ChatTemplate.render(
            messages: request.messages, tools: request.tools, kind: configuration.chatTemplate, addGenerationPrompt: open,
            continuingFinalMessage: request.continuesFinalMessage)
        return tokenizer.encode(prompt: prompt) + (addGenerationPrompt ? tokenizer.encode(pieces: request.forcedPrefix) : [])
    }
}
