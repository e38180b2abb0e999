import Foundation
import KimiConstraints
import KimiTokenizer

/// One generation the engine runs: a prompt as token ids and when to stop.
public struct GenerationRequest: Sendable {
    public var prompt: [Int]
    public var sampling: SamplingParameters
    /// The most tokens to generate (the API has already fitted it to the context).
    public var maxTokens: Int
    /// Token ids that end the turn (<|im_end|>, [EOS]); they are counted but not shown.
    public var stopTokens: Set<Int>
    /// Strings that end generation; never included in the text.
    public var stopStrings: [String]
    /// Return each token's log-probability and this many alternatives (nil: none).
    public var logprobs: Int?
    /// Generate until max_tokens even past the stop tokens (benchmarks).
    public var ignoreStopTokens: Bool
    /// What the output must be (JSON, valid tool calls); nil: anything.
    public var grammar: Grammar?

    public init(
        prompt: [Int], sampling: SamplingParameters = SamplingParameters(), maxTokens: Int,
        stopTokens: Set<Int> = [], stopStrings: [String] = [], logprobs: Int? = nil, ignoreStopTokens: Bool = false,
        grammar: Grammar? = nil
    ) {
        self.prompt = prompt
        self.sampling = sampling
        self.maxTokens = maxTokens
        self.stopTokens = stopTokens
        self.stopStrings = stopStrings
        self.logprobs = logprobs
        self.ignoreStopTokens = ignoreStopTokens
        self.grammar = grammar
    }
}

public enum FinishReason: String, Sendable {
    /// A stop token or stop string.
    case stop
    /// max_tokens or the end of the context.
    case length
    /// The client went away.
    case cancelled
    /// The server is shutting down and its drain time ran out.
    case aborted
}

/// A generated token's log-probability and the most likely alternatives (the model's
/// distribution before sampling adjustments, restricted to the tokens a grammar allows).
public struct TokenLogprob: Sendable, Equatable {
    public var token: Int
    public var logprob: Float
    public var top: [(token: Int, logprob: Float)]

    public static func == (a: TokenLogprob, b: TokenLogprob) -> Bool {
        a.token == b.token && a.logprob == b.logprob && a.top.map(\.token) == b.top.map(\.token)
            && a.top.map(\.logprob) == b.top.map(\.logprob)
    }
}

public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose KV came from the cache instead of being computed.
    public var cachedTokens: Int
    /// Completion tokens of a reasoning model's thinking: `<think>`, the tokens up to `</think>`,
    /// and `</think>` (a tool-call marker ends the thinking too, itself not counted).
    public var reasoningTokens = 0

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }

    public var totalTokens: Int { promptTokens + completionTokens }
}

public enum GenerationEvent: Sendable {
    /// Prefill done; the first token follows.
    case started(cachedTokens: Int)
    /// Output released by this step, text and tool-call markers in order (may be empty while a
    /// character or stop string is pending), and the log-probabilities of the tokens generated
    /// since the last event.
    case output([OutputPiece], logprobs: [TokenLogprob])
    /// The reason, the usage, and the stop string that ended the output (nil for any other end).
    case finished(FinishReason, Usage, stopString: String?)
    case failed(String)
}

/// The caller's side of one submitted generation: events in order, and cancellation.
/// Sendable: its state (events, cancellation, done) is read and written only under `condition`.
public final class GenerationHandle: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [GenerationEvent] = []
    private var stopReason: FinishReason?
    private var done = false

    init() {}

    /// Asks the engine to stop this generation at its next step (or never start it):
    /// `.cancelled` when the client left, `.aborted` when the server shuts down.
    public func cancel(_ reason: FinishReason = .cancelled) {
        condition.lock()
        if stopReason == nil { stopReason = reason }
        condition.unlock()
    }

    /// Why the generation was asked to stop, if it was.
    public var cancellation: FinishReason? {
        condition.lock()
        defer { condition.unlock() }
        return stopReason
    }

    public var isCancelled: Bool { cancellation != nil }

    func send(_ event: GenerationEvent) {
        condition.lock()
        events.append(event)
        if case .finished = event { done = true }
        if case .failed = event { done = true }
        condition.broadcast()
        condition.unlock()
    }

    /// The next event, waiting up to `timeout` seconds; nil on timeout or after the last event.
    public func next(timeout: TimeInterval) -> GenerationEvent? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeout)
        while events.isEmpty {
            if done { return nil }
            if !condition.wait(until: deadline) { return nil }
        }
        return events.removeFirst()
    }

    /// Whether every event has been delivered.
    public var isFinished: Bool {
        condition.lock()
        defer { condition.unlock() }
        return done && events.isEmpty
    }
}
