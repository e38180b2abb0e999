import Foundation
import KimiConstraints

/// Chooses tokens from logits, reproducibly: the same seed, parameters and logits always give
/// the same token. Order, as vLLM applies them: logit bias, the repetition penalty over the
/// prompt's and the generated tokens, presence and frequency penalties over the tokens generated
/// so far, the grammar's mask (a token it forbids can never be drawn, whatever the bias),
/// temperature, top-k, top-p, min-p, then a draw.
public struct Sampler {
    public let parameters: SamplingParameters
    private var rng: SplitMix64
    /// Times each token was generated (for the penalties).
    private var counts: [Int: Int] = [:]
    /// Scratch: candidate ids and their probabilities.
    private var order: [Int32] = []
    private var probabilities: [Float] = []

    /// The prompt's distinct tokens (for the repetition penalty only).
    private let promptTokens: Set<Int>

    public init(_ parameters: SamplingParameters, prompt: [Int] = []) {
        self.parameters = parameters
        rng = SplitMix64(seed: parameters.seed)
        promptTokens = parameters.repetitionPenalty == 1 ? [] : Set(prompt)
    }

    /// Records a generated token for the penalties (call once per token produced).
    public mutating func accept(_ token: Int) {
        counts[token, default: 0] += 1
    }

    /// The next token from `logits` (n entries), which it may modify; only a token `allowed`
    /// admits (when given, it must admit at least one).
    public mutating func sample(_ logits: UnsafeMutablePointer<Float>, n: Int, allowed: Constraint.Allowed? = nil) -> Int {
        let p = parameters
        for (token, bias) in p.logitBias where token < n { logits[token] += bias }
        if p.repetitionPenalty != 1 {
            for token in promptTokens.union(counts.keys) where token < n {
                logits[token] = logits[token] > 0 ? logits[token] / p.repetitionPenalty : logits[token] * p.repetitionPenalty
            }
        }
        if p.presencePenalty != 0 || p.frequencyPenalty != 0 {
            for (token, count) in counts where token < n {
                logits[token] -= p.presencePenalty + p.frequencyPenalty * Float(count)
            }
        }
        if let allowed { Self.restrict(logits, n: n, to: allowed) }
        // Every allowed logit may be -inf (the model's own); the draw still stays allowed.
        func fallback() -> Int {
            let best = Self.argmax(logits, n: n)
            guard case let .only(mask)? = allowed, !mask.contains(best) else { return best }
            return mask.ids.first!
        }
        if p.temperature == 0 { return fallback() }

        // Candidates sorted by logit (then id), cut by top-k.
        order.removeAll(keepingCapacity: true)
        for i in 0..<n where logits[i] > -.infinity { order.append(Int32(i)) }
        if order.isEmpty { return fallback() }
        order.sort { logits[Int($0)] > logits[Int($1)] || (logits[Int($0)] == logits[Int($1)] && $0 < $1) }
        if p.topK > 0 && order.count > p.topK { order.removeLast(order.count - p.topK) }
        // Softmax at the temperature, in Double for a stable sum.
        let top = Double(logits[Int(order[0])])
        probabilities.removeAll(keepingCapacity: true)
        var total = 0.0
        for id in order {
            let e = exp((Double(logits[Int(id)]) - top) / Double(p.temperature))
            probabilities.append(Float(e))
            total += e
        }
        // Top-p: the shortest prefix whose mass reaches top_p (at least one token).
        var kept = order.count
        if p.topP < 1 {
            var mass = 0.0
            for (i, q) in probabilities.enumerated() {
                mass += Double(q) / total
                if mass >= Double(p.topP) {
                    kept = i + 1
                    break
                }
            }
        }
        // Min-p: the probabilities are in decreasing order, so those kept are a prefix too.
        if p.minP > 0 {
            let floor = probabilities[0] * p.minP
            kept = min(kept, probabilities.prefix(kept).prefix { $0 >= floor }.count)
        }
        var keptTotal = 0.0
        for i in 0..<kept { keptTotal += Double(probabilities[i]) }
        var r = rng.nextUnit() * keptTotal
        for i in 0..<kept {
            r -= Double(probabilities[i])
            if r < 0 { return Int(order[i]) }
        }
        return Int(order[kept - 1])
    }

    /// Sets the logits of the tokens `allowed` forbids to -inf (ids beyond its vocabulary too).
    public static func restrict(_ logits: UnsafeMutablePointer<Float>, n: Int, to allowed: Constraint.Allowed) {
        switch allowed {
        case let .allExcept(banned):
            for id in banned where id < n { logits[id] = -.infinity }
        case let .only(mask):
            mask.words.withUnsafeBufferPointer { words in
                for w in 0..<min(words.count, (n + 63) >> 6) {
                    let bits = words[w]
                    let start = w << 6, end = min(start + 64, n)
                    if bits == ~0 { continue }
                    if bits == 0 {
                        (logits + start).update(repeating: -.infinity, count: end - start)
                        continue
                    }
                    var clear = ~bits
                    while clear != 0 {
                        let i = start + clear.trailingZeroBitCount
                        if i < end { logits[i] = -.infinity }
                        clear &= clear - 1
                    }
                }
            }
            if n > mask.count { for i in mask.count..<n { logits[i] = -.infinity } }
        }
    }

    /// The index of the largest logit, the lowest on ties.
    public static func argmax(_ logits: UnsafePointer<Float>, n: Int) -> Int {
        var best = 0
        for i in 1..<n where logits[i] > logits[best] { best = i }
        return best
    }
}

/// SplitMix64: small, fast, and reproducible across platforms.
public struct SplitMix64 {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }
}
