import FuzzSupport
import KimiAPI
import KimiJSON
import KimiTokenizer

// A chat-completions body through what the server does before generation: JSON parsing,
// ChatCompletionRequest's validation, the chat template and tokenisation (with the small
// tokenizer of Tests/Fixtures/tokenizer). It must not crash or hang, validation may fail only
// with an APIError, and a request it accepts must keep the limits it enforces; the tokens of
// the rendered prompt decode to the prompt's text (control markup as its special tokens).
let tokenizer: Tokenizer = {
    do { return try Tokenizer(directory: Fuzz.fixture("tokenizer")) } catch {
        Fuzz.fail("cannot load the fixture tokenizer at \(Fuzz.fixture("tokenizer")): \(error)")
    }
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzChatRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard let body = try? JSONParser.parse(UnsafeRawBufferPointer(start: data, count: size)) else { return 0 }
    let vocabSize = tokenizer.vocabSize
    let request: ChatCompletionRequest
    do {
        request = try ChatCompletionRequest(json: body, vocabSize: vocabSize)
    } catch let error as APIError {
        Fuzz.check(error.status == 400, "validation answered \(error.status): \(error)")
        return 0
    } catch {
        Fuzz.fail("validation threw \(type(of: error)), not an APIError: \(error)")
    }
    checkLimits(request, vocabSize: vocabSize)

    // As ChatCompletions does: tools only when tool_choice is not "none", then the forced start.
    let prompt = ChatTemplate.render(messages: request.messages, tools: request.toolChoice == .none ? nil : request.tools)
    let ids = tokenizer.encode(prompt: prompt)
    let forced = tokenizer.encode(pieces: request.forcedPrefix)
    for id in ids + forced {
        Fuzz.check((0..<vocabSize).contains(id), "token id \(id) outside the vocabulary of \(vocabSize)")
    }
    for case let .control(marker) in prompt.segments {
        Fuzz.check(tokenizer.specialId(marker) != nil, "the template wrote \(marker), which is not a special token")
    }
    let decoded = tokenizer.decode(ids)
    Fuzz.check(
        Array(decoded.utf8) == Array(prompt.text.utf8),
        "the prompt's tokens decode to other text: \(Fuzz.show(prompt.text)) vs \(Fuzz.show(decoded))")
    Fuzz.check(tokenizer.decodeOutput(forced).coalesced == request.forcedPrefix.coalesced, "the forced prefix does not decode to itself")
    return 0
}

/// What ChatCompletionRequest refuses outside these bounds must be inside them once accepted.
private func checkLimits(_ r: ChatCompletionRequest, vocabSize: Int) {
    Fuzz.check(!r.messages.isEmpty, "accepted without messages")
    Fuzz.check((0...2).contains(r.temperature), "temperature \(r.temperature)")
    Fuzz.check((0...1).contains(r.topP), "top_p \(r.topP)")
    Fuzz.check((0...vocabSize).contains(r.topK), "top_k \(r.topK)")
    Fuzz.check((1...ChatCompletionRequest.maxN).contains(r.n), "n \(r.n)")
    Fuzz.check((-2...2).contains(r.presencePenalty) && (-2...2).contains(r.frequencyPenalty), "penalties")
    Fuzz.check(r.maxTokens.map { $0 >= 1 } ?? true, "max_tokens \(r.maxTokens!)")
    Fuzz.check(r.stop.count <= 4 && r.stop.allSatisfy { !$0.isEmpty }, "stop \(r.stop)")
    Fuzz.check(r.logitBias.count <= 1024, "logit_bias has \(r.logitBias.count) entries")
    for (id, bias) in r.logitBias {
        Fuzz.check((0..<vocabSize).contains(id) && (-100...100).contains(bias), "logit_bias \(id): \(bias)")
    }
    Fuzz.check(r.logprobs.map { (0...ChatCompletionRequest.maxTopLogprobs).contains($0) } ?? true, "logprobs \(r.logprobs!)")
    Fuzz.check(r.includeUsage ? r.stream : true, "include_usage without stream")
    Fuzz.check(Set(r.toolNames).count == r.toolNames.count, "tool names repeat: \(r.toolNames)")
    switch r.toolChoice {
    case .none: break
    case .auto, .required: Fuzz.check(!r.toolNames.isEmpty, "tool_choice \(r.toolChoice) without tools")
    case let .function(name): Fuzz.check(r.toolNames.contains(name), "tool_choice names \(name), not among \(r.toolNames)")
    }
}
