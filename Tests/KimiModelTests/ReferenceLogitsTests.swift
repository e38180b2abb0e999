import Foundation
import KimiModel
import Testing

/// The forward pass against transformers' DeepseekV3ForCausalLM on the committed fixtures
/// (Scripts/make_fixtures.py): every logit of every position within 1e-4 of the sequence's
/// largest |logit|, the same greedy continuation wherever the reference's margin is clear, and
/// prefill / decode / chunking all giving the same numbers.
@Suite struct ReferenceLogitsTests {
    static let relativeTolerance: Float = 1e-4

    static func maxAbsDifference(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Float {
        zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    @Test("full prefill matches transformers", arguments: Fixtures.names)
    func prefillMatchesReference(_ name: String) throws {
        let model = try KimiTransformer(directory: Fixtures.checkpoint(name))
        for sequence in try Fixtures.reference(name) {
            let logits = try model.logits(sequence.tokens, cache: model.makeCache())
            let scale = sequence.logits.reduce(0) { max($0, abs($1)) }
            let diff = Self.maxAbsDifference(logits[...], sequence.logits[...])
            #expect(
                diff <= Self.relativeTolerance * scale,
                "\(name), prompt of \(sequence.prompt.count): max |Δlogit| \(diff), max |logit| \(scale)")
        }
    }

    @Test("prefill then greedy decode follows transformers", arguments: Fixtures.names)
    func decodeFollowsReference(_ name: String) throws {
        let model = try KimiTransformer(directory: Fixtures.checkpoint(name))
        let vocab = model.config.vocabSize
        for sequence in try Fixtures.reference(name) {
            let scale = sequence.logits.reduce(0) { max($0, abs($1)) }
            let tolerance = Self.relativeTolerance * scale
            let cache = model.makeCache()
            var last = [Float](repeating: 0, count: vocab)
            try model.forward(sequence.prompt, cache: cache, logits: &last)
            var checkedSteps = 0
            for (step, token) in sequence.greedy.enumerated() {
                let row = sequence.row(sequence.prompt.count - 1 + step)
                #expect(Self.maxAbsDifference(last[...], row) <= tolerance, "\(name) step \(step)")
                let sorted = row.sorted(by: >)
                if sorted[0] - sorted[1] > 2 * tolerance {
                    let ours = last.indices.max { last[$0] < last[$1] || (last[$0] == last[$1] && $0 > $1) }!
                    #expect(ours == token, "\(name) step \(step): greedy token \(ours), transformers \(token)")
                    checkedSteps += 1
                }
                if step + 1 < sequence.greedy.count {
                    try model.forward([token], cache: cache, logits: &last)
                }
            }
            #expect(checkedSteps >= sequence.greedy.count / 2, "\(name): only \(checkedSteps) steps had a clear margin")
        }
    }

    @Test("prefill, decode and any chunking give bit-identical logits", arguments: Fixtures.names)
    func prefillDecodeChunkingAgree(_ name: String) throws {
        let sequence = try Fixtures.reference(name)[0]
        let tokens = sequence.tokens
        let whole = try KimiTransformer(directory: Fixtures.checkpoint(name), maxBatchTokens: tokens.count)
        let full = try whole.logits(tokens, cache: whole.makeCache())
        for chunk in [1, 3, 16] {
            let model = try KimiTransformer(directory: Fixtures.checkpoint(name), maxBatchTokens: chunk)
            #expect(try model.logits(tokens, cache: model.makeCache()) == full, "\(name), chunks of \(chunk)")
        }
        // Prefill half, then decode one token at a time.
        let cache = whole.makeCache()
        let split = tokens.count / 2
        var logits = try whole.logits(Array(tokens[..<split]), cache: cache)
        for token in tokens[split...] {
            logits += try whole.logits([token], cache: cache)
        }
        #expect(logits == full, "\(name): prefill + decode differs from one full pass")
    }

    @Test("logits do not depend on the number of threads", arguments: Fixtures.names)
    func threadInvariance(_ name: String) throws {
        let tokens = try Fixtures.reference(name)[0].tokens
        let results = try [1, 2, 3].map { threads -> [Float] in
            let model = try KimiTransformer(directory: Fixtures.checkpoint(name), maxBatchTokens: 16, threads: threads)
            return try model.logits(tokens, cache: model.makeCache())
        }
        #expect(results[0] == results[1] && results[1] == results[2])
    }

    /// On the reference sequence whose routing is furthest from a tie: rounding the cache to
    /// bf16 can move expert scores by more than the 2e-4 margin every fixture guarantees, and a
    /// flipped tie changes that position's logits wholesale.
    @Test("a bf16 KV cache stays within 1 % of the f32 one", arguments: Fixtures.names)
    func bf16Cache(_ name: String) throws {
        let model = try KimiTransformer(directory: Fixtures.checkpoint(name))
        let sequence = try Fixtures.reference(name).max { $0.routingMargin < $1.routingMargin }!
        let f32 = try model.logits(sequence.tokens, cache: model.makeCache(dtype: .f32))
        let bf16 = try model.logits(sequence.tokens, cache: model.makeCache(dtype: .bf16))
        let scale = f32.reduce(0) { max($0, abs($1)) }
        let diff = Self.maxAbsDifference(f32[...], bf16[...])
        #expect(diff > 0 && diff <= 0.01 * scale, "\(name): max |Δ| \(diff) of max |logit| \(scale)")
    }

    @Test("a forward pass past the cache or with a bad token id is an error, not a crash")
    func forwardErrors() throws {
        let model = try KimiTransformer(directory: Fixtures.checkpoint("kimi-mini"))
        let cache = model.makeCache(capacity: 4)
        #expect(throws: ForwardError.contextFull(needed: 5, capacity: 4)) { try model.forward([1, 2, 3, 4, 5], cache: cache, logits: nil) }
        #expect(throws: ForwardError.tokenOutOfRange(token: 640, vocabSize: 640)) { try model.forward([640], cache: cache, logits: nil) }
        #expect(throws: ForwardError.tokenOutOfRange(token: -1, vocabSize: 640)) { try model.forward([-1], cache: cache, logits: nil) }
        #expect(cache.count == 0)
    }
}
