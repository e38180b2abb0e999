import Foundation
import KimiModel
import KimiServing
import KimiTokenizer
import ServingTestSupport
import Testing

/// The serving engine on the kimi-mini fixture (Tests/Fixtures/checkpoints): outputs that do
/// not depend on what runs beside them, the prefix cache, admission, cancellation.
@Suite(.serialized) struct EngineTests {
    static let checkpoint = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/checkpoints/kimi-mini").path

    static func engine(
        maxRunning: Int = 16, prefillChunk: Int = 64, maxQueued: Int = 64, prefixCaching: Bool = true,
        budget: Int = 1 << 16, stepDelay: Double = 0
    ) throws -> any GenerationService {
        var c = EngineConfiguration()
        c.maxRunning = maxRunning
        c.prefillChunk = prefillChunk
        c.maxQueued = maxQueued
        c.prefixCaching = prefixCaching
        c.kvBudgetTokens = budget
        let transformer = try KimiTransformer(directory: checkpoint, maxBatchTokens: c.batchTokens, maxContext: 512, threads: 2)
        let model = TransformerModel(transformer: transformer, kvDType: .f32)
        let tokenizer = try Tokenizer(directory: checkpoint)
        let engine: any GenerationService =
            stepDelay > 0
            ? Engine(model: SlowModel(model, delay: stepDelay), tokenizer: tokenizer, configuration: c)
            : Engine(model: model, tokenizer: tokenizer, configuration: c)
        engine.start()
        return engine
    }

    /// What one generation produced: every token with its log-probability, and how it ended.
    struct Output: Equatable {
        var tokens: [Int] = []
        var logprobs: [Float] = []
        var finish: FinishReason?
        var usage: Usage?
        var failed: String?
    }

    static func collect(_ handle: GenerationHandle, timeout: Double = 60) -> Output {
        var out = Output()
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            guard let event = handle.next(timeout: 1) else {
                if handle.isFinished { return out }
                continue
            }
            switch event {
            case .started: break
            case let .output(_, logprobs):
                out.tokens += logprobs.map(\.token)
                out.logprobs += logprobs.map(\.logprob)
            case let .finished(reason, usage, _):
                out.finish = reason
                out.usage = usage
                return out
            case let .failed(message):
                out.failed = message
                return out
            }
        }
        return out
    }

    static func request(_ prompt: [Int], maxTokens: Int = 10, temperature: Float = 0, seed: UInt64 = 0) -> GenerationRequest {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.seed = seed
        return GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: maxTokens, logprobs: 0, ignoreStopTokens: true)
    }

    /// Prompts of varied lengths (longer than the small chunk sizes), from a fixed generator.
    static func prompts(_ count: Int, seed: UInt64 = 1) -> [[Int]] {
        var state = seed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        return (0..<count).map { i in (0..<(5 + (i * 13) % 70)).map { _ in next() % 380 } }
    }

    static func waitUntil(_ timeout: Double = 30, _ condition: () -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return condition()
    }

    @Test(
        "outputs are byte-identical alone and among 4 or 16 others, at any chunk size, greedy and seeded",
        arguments: [(Float(0), UInt64(0)), (Float(0.9), UInt64(42))])
    func batchInvariance(_ sampling: (temperature: Float, seed: UInt64)) throws {
        let prompts = Self.prompts(16)
        let requests = prompts.enumerated().map { i, p in
            Self.request(p, maxTokens: 12, temperature: sampling.temperature, seed: sampling.seed + UInt64(i))
        }
        let alone = try Self.engine(maxRunning: 1, prefillChunk: 64)
        defer { alone.shutdown() }
        let reference = try requests.map { Self.collect(try alone.submit($0)) }
        for r in reference { #expect(r.finish == .length && r.tokens.count == 12) }
        for (running, chunk) in [(4, 7), (16, 64), (16, 3)] {
            let engine = try Self.engine(maxRunning: running, prefillChunk: chunk)
            defer { engine.shutdown() }
            // Submitted in a shuffled order, all at once.
            let order = Array(requests.indices).sorted { ($0 * 7) % 16 < ($1 * 7) % 16 }
            var handles: [Int: GenerationHandle] = [:]
            for i in order { handles[i] = try engine.submit(requests[i]) }
            for i in requests.indices {
                let out = Self.collect(handles[i]!)
                #expect(out.tokens == reference[i].tokens, "request \(i), \(running) running, chunk \(chunk)")
                #expect(out.logprobs == reference[i].logprobs, "request \(i), \(running) running, chunk \(chunk)")
            }
        }
    }

    @Test("a follow-up turn reuses the cached prefix, reports it, and generates what an uncached run does")
    func prefixCache() throws {
        let engine = try Self.engine(maxRunning: 4)
        let uncached = try Self.engine(maxRunning: 4, prefixCaching: false)
        defer { engine.shutdown(); uncached.shutdown() }
        let system = Self.prompts(1, seed: 9)[0] + Self.prompts(1, seed: 10)[0]  // a shared "system prompt"
        let first = Self.collect(try engine.submit(Self.request(system + [5, 6, 7], maxTokens: 6)))
        #expect(first.usage?.cachedTokens == 0)
        // The next turn: the whole first exchange, then more. The cache holds the prompt and all
        // generated tokens but the last (never fed back).
        let turn = system + [5, 6, 7] + first.tokens + [8, 9, 10, 11]
        let second = Self.collect(try engine.submit(Self.request(turn)))
        #expect(second.usage?.cachedTokens == system.count + 3 + first.tokens.count - 1)
        let reference = Self.collect(try uncached.submit(Self.request(turn)))
        #expect(reference.usage?.cachedTokens == 0)
        #expect(second.tokens == reference.tokens)
        for (a, b) in zip(second.logprobs, reference.logprobs) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
        // Another conversation with the same system prompt shares only that part, and leaves the
        // cached conversation whole for its own next turn.
        let other = Self.collect(try engine.submit(Self.request(system + [20, 21, 22])))
        #expect(other.usage?.cachedTokens == system.count)
        let third = Self.collect(try engine.submit(Self.request(turn + second.tokens + [12])))
        #expect(third.usage?.cachedTokens == turn.count + second.tokens.count - 1)
        #expect(Self.waitUntil { engine.snapshot.reservedTokens == 0 && engine.snapshot.running == 0 })
    }

    @Test("cancelling while queued, during prefill or during decode frees everything and leaves the others untouched")
    func cancellation() throws {
        let bystanderRequest = Self.request(Self.prompts(1, seed: 3)[0], maxTokens: 150)
        let aloneEngine = try Self.engine(maxRunning: 1)
        let alone = Self.collect(try aloneEngine.submit(bystanderRequest))
        aloneEngine.shutdown()

        let engine = try Self.engine(maxRunning: 2, prefillChunk: 4, stepDelay: 0.01)
        defer { engine.shutdown() }
        let baseline = engine.snapshot
        let bystander = try engine.submit(bystanderRequest)
        // Decode: cancelled after its first tokens.
        let decoding = try engine.submit(Self.request(Self.prompts(1, seed: 4)[0], maxTokens: 200))
        var sawText = false
        while !sawText, let event = decoding.next(timeout: 10) {
            if case let .output(_, logprobs) = event, !logprobs.isEmpty { sawText = true }
        }
        #expect(sawText)
        // Queued: both slots are taken.
        let queued = try engine.submit(Self.request([1, 2, 3], maxTokens: 5))
        #expect(engine.snapshot.queued == 1)
        queued.cancel()
        let queuedOut = Self.collect(queued)
        #expect(queuedOut.finish == .cancelled && queuedOut.usage?.completionTokens == 0)
        decoding.cancel()
        let decodingOut = Self.collect(decoding)
        #expect(decodingOut.finish == .cancelled && decodingOut.usage!.completionTokens < 200)
        // Prefill: a 300-token prompt in chunks of 4, cancelled before its first token.
        let long = try engine.submit(Self.request((0..<300).map { ($0 * 7) % 380 }, maxTokens: 5))
        #expect(Self.waitUntil { engine.snapshot.running == 2 })
        Thread.sleep(forTimeInterval: 0.05)
        long.cancel()
        let longOut = Self.collect(long)
        #expect(longOut.finish == .cancelled && longOut.usage?.completionTokens == 0)

        let bystanderOut = Self.collect(bystander)
        #expect(bystanderOut.tokens == alone.tokens && bystanderOut.logprobs == alone.logprobs)
        #expect(
            Self.waitUntil {
                let s = engine.snapshot; return s.running == 0 && s.queued == 0 && s.reservedTokens == 0
            })
        #expect(engine.snapshot.queued == baseline.queued && engine.snapshot.reservedTokens == baseline.reservedTokens)
    }

    @Test("a burst beyond the queue is refused at once; every admitted request completes")
    func burst() throws {
        let engine = try Self.engine(maxRunning: 2, maxQueued: 3, stepDelay: 0.01)
        defer { engine.shutdown() }
        var admitted: [GenerationHandle] = [], refused = 0
        for p in Self.prompts(12) {
            let start = Date()
            do {
                admitted.append(try engine.submit(Self.request(p, maxTokens: 8)))
            } catch SubmitError.queueFull {
                refused += 1
                #expect(Date().timeIntervalSince(start) < 0.1)
            }
        }
        #expect(refused >= 12 - 5 && admitted.count >= 3)
        for h in admitted {
            let out = Self.collect(h)
            #expect(out.finish == .length && out.tokens.count == 8)
        }
    }

    @Test("50 requests abandoned by their clients do not delay the next one")
    func abandonedFlood() throws {
        let engine = try Self.engine(maxRunning: 4, maxQueued: 64, stepDelay: 0.01)
        defer { engine.shutdown() }
        let flood = try Self.prompts(50).map { try engine.submit(Self.request($0, maxTokens: 500)) }
        Thread.sleep(forTimeInterval: 0.05)
        for h in flood { h.cancel() }
        let start = Date()
        let out = Self.collect(try engine.submit(Self.request([7, 8, 9], maxTokens: 5)))
        #expect(out.finish == .length && out.tokens.count == 5)
        #expect(Date().timeIntervalSince(start) < 2, "served in \(Date().timeIntervalSince(start)) s")
        #expect(flood.allSatisfy { Self.collect($0).finish == .cancelled })
        #expect(
            Self.waitUntil {
                let s = engine.snapshot; return s.running == 0 && s.queued == 0 && s.reservedTokens == 0
            })
    }

    @Test("the KV budget bounds admission: requests wait until cached prefixes are evicted or reservations end")
    func budget() throws {
        // Room for two requests of 100 prompt + 20 generated tokens, not three.
        let engine = try Self.engine(maxRunning: 8, budget: 250, stepDelay: 0.005)
        defer { engine.shutdown() }
        let handles = try (0..<3).map { i in try engine.submit(Self.request((0..<100).map { ($0 * 3 + i) % 380 }, maxTokens: 20)) }
        #expect(Self.waitUntil { engine.snapshot.running == 2 })
        #expect(engine.snapshot.queued == 1 && engine.snapshot.reservedTokens == 240)
        for h in handles { #expect(Self.collect(h).finish == .length) }
        #expect(Self.waitUntil { engine.snapshot.reservedTokens == 0 } && engine.snapshot.cachedPrefixTokens <= 250)
        #expect(throws: SubmitError.tooLarge(needed: 300, budget: 250)) {
            try engine.submit(Self.request((0..<280).map { $0 % 380 }, maxTokens: 20))
        }
    }

    @Test("markers arrive as pieces in order with the text; stop strings match the text between them; one logprob per token")
    func markerPieces() throws {
        let t = try Tokenizer(directory: Self.checkpoint)
        let end = t.specialId("<|im_end|>")!
        let script =
            t.encode(
                "Sure.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
                    + "{}<|tool_call_end|><|tool_calls_section_end|>ok STOP more") + [end]
        var c = EngineConfiguration()
        c.prefixCaching = false  // a scripted model: one cache per generation
        let engine = Engine(
            model: ScriptedModel(scripts: [script], vocabSize: t.vocabSize, maxContext: 512), tokenizer: t, configuration: c)
        engine.start()
        defer { engine.shutdown() }
        // "Sure.<|tool" would match the text with the marker spelled out: the marker is not text.
        let handle = try engine.submit(
            GenerationRequest(
                prompt: [1, 2, 3], maxTokens: 100, stopTokens: [end],
                stopStrings: ["Sure.<|tool", "STOP"], logprobs: 0))
        var pieces: [OutputPiece] = []
        var tokens: [Int] = []
        var finish: FinishReason?
        while let event = handle.next(timeout: 30) {
            if case let .output(p, logprobs) = event {
                pieces += p
                tokens += logprobs.map(\.token)
            }
            if case let .finished(reason, _, _) = event { finish = reason }
        }
        // The output as written, up to the stop string, with its five markers as marker pieces.
        #expect(
            pieces.text == "Sure.<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>"
                + "{}<|tool_call_end|><|tool_calls_section_end|>ok ")
        #expect(
            pieces.compactMap { piece -> ToolCallMarker? in if case let .marker(m) = piece { m } else { nil } } == [
                .sectionBegin, .callBegin, .argumentBegin, .callEnd, .sectionEnd,
            ])
        #expect(finish == .stop)
        // Every token up to the one that completes "STOP", each with its log-probability.
        let stop = (1...script.count).first { t.decode(Array(script.prefix($0))).contains("STOP") }!
        #expect(tokens == Array(script.prefix(stop)))
    }
}
