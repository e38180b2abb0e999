import Foundation
import KimiServing
import Testing

/// The sampler against direct computations of what each parameter means.
@Suite struct SamplerTests {
    static let logits: [Float] = [1.0, 3.0, 2.0, 3.0, -1.0, 0.5, 2.5, -4.0]

    func draw(_ p: SamplingParameters, times: Int = 4000) -> [Int: Int] {
        var sampler = Sampler(p)
        var counts: [Int: Int] = [:]
        for _ in 0..<times {
            var l = Self.logits
            counts[sampler.sample(&l, n: l.count), default: 0] += 1
        }
        return counts
    }

    @Test("temperature 0 is argmax, the lowest id on ties")
    func greedy() {
        var p = SamplingParameters()
        p.temperature = 0
        var sampler = Sampler(p)
        var l = Self.logits
        #expect(sampler.sample(&l, n: l.count) == 1)
    }

    @Test("repetition penalty: logits of prompt and generated tokens divided (positive) or multiplied (negative), as vLLM defines it")
    func repetitionPenalty() {
        var p = SamplingParameters()
        p.temperature = 0
        p.repetitionPenalty = 2
        var sampler = Sampler(p, prompt: [1, 4, 4])
        sampler.accept(6)
        var l = Self.logits
        _ = sampler.sample(&l, n: l.count)
        var expected = Self.logits
        for t in [1, 4, 6] { expected[t] = expected[t] > 0 ? expected[t] / 2 : expected[t] * 2 }
        #expect(l == expected)
    }

    @Test("min-p keeps exactly the tokens at least min_p times as likely as the most likely one, at the temperature")
    func minP() {
        var p = SamplingParameters()
        p.temperature = 0.8
        p.minP = 0.2
        // Probabilities relative to the best (logit 3): exp((l - 3) / 0.8).
        let kept = Set(Self.logits.indices.filter { exp((Double(Self.logits[$0]) - 3) / 0.8) >= 0.2 })
        let drawn = draw(p, times: 20000)
        #expect(Set(drawn.keys) == kept)
        var q = p
        q.minP = 0
        #expect(Set(draw(q, times: 20000).keys).isSuperset(of: kept.union([0, 5])))
    }

    @Test("the same seed draws the same tokens; another seed draws others")
    func seeds() {
        var p = SamplingParameters()
        p.temperature = 1
        p.seed = 42
        func sequence(_ seed: UInt64) -> [Int] {
            var q = p
            q.seed = seed
            var s = Sampler(q)
            return (0..<64).map { _ in
                var l = Self.logits; return s.sample(&l, n: l.count)
            }
        }
        #expect(sequence(42) == sequence(42))
        #expect(sequence(42) != sequence(43))
    }

    @Test("frequencies follow softmax(logits / T) within sampling error")
    func distribution() {
        var p = SamplingParameters()
        p.temperature = 0.7
        p.seed = 9
        let counts = draw(p, times: 20000)
        let weights = Self.logits.map { exp(Double($0) / 0.7) }
        let total = weights.reduce(0, +)
        for (i, w) in weights.enumerated() {
            let expected = w / total
            let observed = Double(counts[i, default: 0]) / 20000
            #expect(abs(observed - expected) < 4 * (expected * (1 - expected) / 20000).squareRoot() + 1e-3, "token \(i)")
        }
    }

    @Test("top-k keeps the k most likely; top-p the smallest set reaching p")
    func truncation() {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 2
        #expect(Set(draw(p).keys) == [1, 3])
        p.topK = 0
        p.topP = 0.5  // probabilities: tokens 1 and 3 ≈ 0.30 each: the first two reach 0.5
        #expect(Set(draw(p).keys) == [1, 3])
        p.topP = 0.0
        #expect(Set(draw(p).keys) == [1])
    }

    @Test("logit bias and penalties shift the logits as OpenAI defines them")
    func biasAndPenalties() {
        var p = SamplingParameters()
        p.temperature = 0
        p.logitBias = [7: 100]
        var s = Sampler(p)
        var l = Self.logits
        #expect(s.sample(&l, n: l.count) == 7)
        // Presence 1.5 after token 1 was generated: 3.0 - 1.5 < 3.0 of token 3.
        var q = SamplingParameters()
        q.temperature = 0
        q.presencePenalty = 1.5
        var t = Sampler(q)
        t.accept(1)
        l = Self.logits
        #expect(t.sample(&l, n: l.count) == 3)
        #expect(l[1] == 1.5)
        // Frequency 0.4 per occurrence: token 3 generated 3 times → 3.0 - 1.2 = 1.8.
        var r = SamplingParameters()
        r.temperature = 0
        r.frequencyPenalty = 0.4
        var u = Sampler(r)
        for _ in 0..<3 { u.accept(3) }
        l = Self.logits
        _ = u.sample(&l, n: l.count)
        #expect(abs(l[3] - 1.8) < 1e-6)
    }
}

@Suite struct StopMatcherTests {
    func run(_ pieces: [String], stops: [String]) -> (String, Bool) {
        var m = StopMatcher(stops)
        var out = ""
        for p in pieces {
            switch m.append(p) {
            case let .text(t): out += t
            case let .stopped(before, _): return (out + before, true)
            }
        }
        return (out + m.finish(), false)
    }

    @Test("a stop string split across pieces is found and never released")
    func acrossPieces() {
        #expect(run(["Hel", "lo wo", "rld"], stops: ["o w"]) == ("Hell", true))
        #expect(run(["abc<", "|en", "d|>rest"], stops: ["<|end|>"]) == ("abc", true))
        #expect(run(["a", "b", "c"], stops: ["xyz"]) == ("abc", false))
        #expect(run(["北京", "天气", "很好"], stops: ["天气很"]) == ("北京", true))
    }

    @Test("text that might start a stop string is held back, then released when it does not")
    func holding() {
        var m = StopMatcher(["world"])
        #expect(m.append("hello wor") == .text("hello "))
        #expect(m.append("ry") == .text("worry"))
        #expect(m.finish() == "")
    }

    @Test("the earliest of several stop strings wins")
    func earliest() {
        #expect(run(["one two three"], stops: ["three", "two"]) == ("one ", true))
    }
}
