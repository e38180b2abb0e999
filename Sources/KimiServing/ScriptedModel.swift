/// A stand-in model that answers every generation with the next of a fixed list of token
/// sequences, whatever the prompt: it puts all probability on the scripted token at each step.
/// Tests use it to drive the API's wire format (tool calls, stop strings) exactly.
public final class ScriptedModel: InferenceModel {
    public let vocabSize: Int
    public let capacity: Int
    public let chunkSize = 64
    public private(set) var cachedTokens: [Int] = []
    let scripts: [[Int]]
    private var script = -1
    private var cursor = 0

    public init(scripts: [[Int]], vocabSize: Int, capacity: Int) {
        precondition(!scripts.isEmpty)
        self.scripts = scripts
        self.vocabSize = vocabSize
        self.capacity = capacity
    }

    public func onProgress(_ handler: @escaping () -> Void) {}

    /// The engine truncates at the start of every generation: move to the next script.
    public func truncate(to count: Int) {
        cachedTokens.removeLast(cachedTokens.count - min(count, cachedTokens.count))
        script = (script + 1) % scripts.count
        cursor = 0
    }

    public func append(_ tokens: [Int], logits: UnsafeMutablePointer<Float>?) throws {
        cachedTokens += tokens
        guard let logits else { return }
        logits.update(repeating: 0, count: vocabSize)
        let s = scripts[script]
        logits[s[min(cursor, s.count - 1)]] = 30
        cursor += 1
    }
}
