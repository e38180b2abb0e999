import KimiModel
import KimiServing

/// A stand-in model that answers every generation with the next of a fixed list of token
/// sequences, whatever the prompt: it puts all probability on the scripted token at each step.
/// Each new cache takes the next script, so run it with prefix caching off (one cache per
/// generation). Tests use it to drive the API's wire format (tool calls, stop strings) exactly.
/// An empty script gives random logits instead (seeded by the cache's number and position): a
/// model that follows nothing, so that only a grammar shapes what is sampled.
public final class ScriptedModel: InferenceModel {
    public final class Cache: SequenceCache {
        let script: [Int]
        let serial: Int
        public let capacity: Int
        public var count = 0
        var cursor = 0

        init(script: [Int], serial: Int, capacity: Int) {
            self.script = script
            self.serial = serial
            self.capacity = capacity
        }

        public func truncate(to count: Int) { self.count = min(self.count, count) }
        public func copyPrefix(of source: Cache, count: Int) { self.count = count }
    }

    public let vocabSize: Int
    public let maxContext: Int
    public let maxBatchTokens: Int
    public let kvBytesPerToken = 1
    public let lastPass = PassStatistics()
    let scripts: [[Int]]
    private var next = 0
    private var caches = 0

    public init(scripts: [[Int]], vocabSize: Int, maxContext: Int, maxBatchTokens: Int = 80) {
        precondition(!scripts.isEmpty)
        self.scripts = scripts
        self.vocabSize = vocabSize
        self.maxContext = maxContext
        self.maxBatchTokens = maxBatchTokens
    }

    public func onProgress(_ handler: @escaping () -> Void) {}

    public func makeCache() -> Cache {
        defer {
            next = (next + 1) % scripts.count
            caches += 1
        }
        return Cache(script: scripts[next], serial: caches, capacity: maxContext)
    }

    public func forward(_ batch: [BatchSegment<Cache>], logits: UnsafeMutablePointer<Float>) throws {
        var row = 0
        for segment in batch {
            let cache = segment.cache
            cache.count += segment.tokens.count
            guard segment.logits == .last else { continue }
            let out = logits + row * vocabSize
            if cache.script.isEmpty {
                var rng = SplitMix64(seed: UInt64(cache.serial) &* 0x1_0000_0001 &+ UInt64(cache.cursor))
                for i in 0..<vocabSize { out[i] = Float(rng.nextUnit() * 8) }
            } else {
                out.update(repeating: 0, count: vocabSize)
                out[cache.script[min(cache.cursor, cache.script.count - 1)]] = 30
            }
            cache.cursor += 1
            row += 1
        }
    }
}
