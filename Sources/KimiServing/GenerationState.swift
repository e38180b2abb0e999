import Foundation
import KimiConstraints
import KimiTokenizer

/// A submitted generation waiting for room in the engine.
struct QueuedGeneration {
    let request: GenerationRequest
    let handle: GenerationHandle
    /// KV tokens it will hold: prompt plus max_tokens, within the context.
    let reservation: Int
}

/// Everything the engine keeps for one running generation: its cache, the tokens that cache
/// holds, and its own sampler, stop matcher and detokeniser, so that sequences never share
/// state.
final class GenerationState<Cache: SequenceCache> {
    let request: GenerationRequest
    let handle: GenerationHandle
    /// KV tokens held for it: prompt plus max_tokens, within the context.
    let reservation: Int
    let cache: Cache
    /// The tokens whose entries `cache` holds.
    var cachedTokens: [Int] = []
    /// The sampled token to run at the next step (nil while the prompt is being read).
    var nextToken: Int?
    var usage: Usage
    private var sampler: Sampler
    private var detokenizer: IncrementalDetokenizer
    private var stops: StopMatcher
    /// The request's grammar, walked along this sequence's tokens.
    private var constraint: Constraint?
    private var pendingLogprobs: [TokenLogprob] = []
    /// Inside the output's thinking (after `<think>`).
    private var reasoning = false
    private let submitted = ProcessInfo.processInfo.systemUptime
    private var lastToken: Double?

    /// `cache` holds the entries of the prompt's first `cache.count` tokens.
    init(_ queued: QueuedGeneration, cache: Cache, tokenizer: Tokenizer, vocabulary: ConstraintVocabulary) {
        let request = queued.request
        self.request = request
        handle = queued.handle
        reservation = queued.reservation
        self.cache = cache
        cachedTokens = Array(request.prompt[..<cache.count])
        usage = Usage(promptTokens: request.prompt.count, completionTokens: 0, cachedTokens: cache.count)
        sampler = Sampler(request.sampling, prompt: request.prompt)
        detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipping: tokenizer.controlIds)
        stops = StopMatcher(request.stopStrings)
        constraint = request.grammar.map { Constraint($0, vocabulary: vocabulary, tokenizer: tokenizer, endTokens: request.stopTokens) }
    }

    /// Ends the generation: what the detokeniser and stop matcher still hold, then the reason.
    func finish(_ reason: FinishReason) {
        let rest = stops.finish() + detokenizer.finish()
        send(rest.isEmpty ? [] : [.text(rest)])
        handle.send(.finished(reason, usage, stopString: nil))
    }

    /// Sends output with the log-probabilities gathered since the last event, if there is either.
    private func send(_ pieces: [OutputPiece]) {
        guard !pieces.isEmpty || !pendingLogprobs.isEmpty else { return }
        handle.send(.output(pieces, logprobs: pendingLogprobs))
        pendingLogprobs.removeAll()
    }

    /// Counts the token whose pieces these are in `usage.reasoningTokens` if it belongs to the
    /// thinking (a token that completes no text yet belongs where the previous one left off).
    private func countReasoning(_ pieces: [OutputPiece]) {
        var counted = reasoning
        for piece in pieces {
            switch piece {
            case .reasoning(.begin):
                reasoning = true
                counted = true
            case .reasoning(.end):
                reasoning = false
            case .marker:
                reasoning = false
                counted = false
            case .text:
                break
            }
        }
        if counted { usage.reasoningTokens += 1 }
    }

    /// This token's pieces with stop strings applied to their text: a marker releases the text
    /// held back before it (a stop string is text and cannot continue across a marker).
    /// `stopped`: the stop string that completed, if one did; the pieces are what came before it.
    private func release(_ token: Int) -> (pieces: [OutputPiece], stopped: String?) {
        var out: [OutputPiece] = []
        func add(_ text: String) { if !text.isEmpty { out.append(.text(text)) } }
        for piece in detokenizer.append(token) {
            switch piece {
            case let .text(text):
                switch stops.append(text) {
                case let .text(ready):
                    add(ready)
                case let .stopped(before, stop):
                    add(before)
                    return (out, stop)
                }
            case .marker, .reasoning:
                add(stops.finish())
                out.append(piece)
            }
        }
        return (out, nil)
    }

    /// Draws the next token from its logits row (vocab) and sends what it releases; true when
    /// the generation has ended.
    func sample(_ logits: UnsafeMutablePointer<Float>, vocab: Int, metrics: ServingMetrics?) -> Bool {
        let allowed = constraint?.allowed()
        if case let .only(mask)? = allowed, mask.isEmpty {
            handle.send(.failed("the output's grammar allows no next token"))
            return true
        }
        var raw = request.logprobs.map { _ in Array(UnsafeBufferPointer(start: logits, count: vocab)) }
        if let allowed, raw != nil { raw!.withUnsafeMutableBufferPointer { Sampler.restrict($0.baseAddress!, n: vocab, to: allowed) } }
        // min_tokens: the stop tokens are out until then, unless the grammar allows nothing else.
        if usage.completionTokens < request.sampling.minTokens && !request.ignoreStopTokens {
            let others: Bool
            if case let .only(mask)? = allowed { others = mask.ids.contains { !request.stopTokens.contains($0) } } else { others = true }
            if others { for t in request.stopTokens where t < vocab { logits[t] = -.infinity } }
        }
        let token = sampler.sample(logits, n: vocab, allowed: allowed)
        if constraint != nil && !constraint!.accept(token) {
            handle.send(.failed("token \(token) was sampled outside the output's grammar"))
            return true
        }
        sampler.accept(token)
        usage.completionTokens += 1
        let now = ProcessInfo.processInfo.systemUptime
        if let lastToken {
            metrics?.interTokenLatency.record(now - lastToken)
        } else {
            handle.send(.started(cachedTokens: usage.cachedTokens))
            metrics?.timeToFirstToken.record(now - submitted)
            metrics?.cachedTokens.increment(by: Int64(usage.cachedTokens))
        }
        lastToken = now
        metrics?.completionTokens.increment()
        // A stop token ends the turn without being part of the text, so it has no logprob entry
        // either: the entries tile the text, as OpenAI's do.
        if request.stopTokens.contains(token) && !request.ignoreStopTokens {
            finish(.stop)
            return true
        }
        if let k = request.logprobs, let raw {
            pendingLogprobs.append(Self.logprob(of: token, top: k, logits: raw))
        }
        let (pieces, stopped) = release(token)
        countReasoning(pieces)
        send(pieces)
        if let stopped {
            handle.send(.finished(.stop, usage, stopString: stopped))
            return true
        }
        if usage.completionTokens >= request.maxTokens || cache.count >= cache.capacity {
            finish(.length)
            return true
        }
        nextToken = token
        return false
    }

    /// log softmax of the raw logits at `token`, and the `top` most likely tokens (best first,
    /// lower id first on ties); log-probabilities are clamped to -9999 as OpenAI does.
    static func logprob(of token: Int, top: Int, logits: [Float]) -> TokenLogprob {
        var m = -Float.infinity
        for l in logits { m = max(m, l) }
        var sum = 0.0
        for l in logits { sum += exp(Double(l - m)) }
        let logZ = Float(log(sum)) + m
        func lp(_ l: Float) -> Float { max(l - logZ, -9999) }
        // The top entries by insertion into a short sorted list.
        var best: [Int] = []
        if top > 0 {
            for i in logits.indices where best.count < top || logits[i] > logits[best[best.count - 1]] {
                var at = best.count
                while at > 0 && logits[i] > logits[best[at - 1]] { at -= 1 }
                best.insert(i, at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return TokenLogprob(token: token, logprob: lp(logits[token]), top: best.map { ($0, lp(logits[$0])) })
    }
}
