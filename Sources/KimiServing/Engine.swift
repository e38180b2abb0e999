import Foundation
import KimiTokenizer

/// The engine loop: one thread owns the model and runs submitted generations one at a time,
/// in arrival order (continuous batching comes later). Each step it checks the generation's
/// cancellation, so a client that leaves stops its work at the next step — queued, during
/// prefill (between chunks) or decoding. Prompts that share a prefix with the sequence left in
/// the cache reuse its KV.
public final class Engine: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// Generations that may wait while one runs; more are refused (→ 429).
        public var maxQueued: Int = 64
        /// Test hook: seconds to sleep after every engine step, to make timing-dependent
        /// behaviour (queueing, disconnects) observable with a tiny model.
        public var stepDelay: Double = 0
        public init() {}
    }

    public enum SubmitError: Error, Equatable {
        case queueFull(queued: Int)
        case shuttingDown
    }

    let model: InferenceModel
    let tokenizer: Tokenizer
    let configuration: Configuration
    private let lock = NSCondition()
    private var queue: [(GenerationRequest, GenerationHandle)] = []
    private var stopping = false
    private var thread: Thread?
    /// Seconds since boot of the loop's last sign of life (a step, or a wake while idle).
    private var heartbeat = ProcessInfo.processInfo.systemUptime
    private var busy = false
    private var running: GenerationHandle?
    /// (vocabSize) logits of the last step
    private let logits: UnsafeMutablePointer<Float>

    public init(model: InferenceModel, tokenizer: Tokenizer, configuration: Configuration = Configuration()) {
        self.model = model
        self.tokenizer = tokenizer
        self.configuration = configuration
        logits = .allocate(capacity: model.vocabSize)
    }

    deinit { logits.deallocate() }

    public func start() {
        model.onProgress { [weak self] in self?.beat() }
        let thread = Thread { [unowned self] in self.loop() }
        thread.name = "kimi-engine"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a generation; its events arrive on the returned handle.
    public func submit(_ request: GenerationRequest) throws -> GenerationHandle {
        lock.lock()
        defer { lock.unlock() }
        if stopping { throw SubmitError.shuttingDown }
        // An idle engine takes one more at once; beyond that, maxQueued may wait.
        guard queue.count < configuration.maxQueued + (busy ? 0 : 1) else { throw SubmitError.queueFull(queued: queue.count) }
        let handle = GenerationHandle()
        queue.append((request, handle))
        lock.signal()
        return handle
    }

    /// Generations waiting to start.
    public var queued: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count
    }

    /// Whether the loop is alive: it has shown progress within `tolerance` seconds.
    public func isAlive(tolerance: TimeInterval) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return thread != nil && ProcessInfo.processInfo.systemUptime - heartbeat < tolerance
    }

    /// Refuses new generations from now on (`submit` throws `.shuttingDown`); queued and
    /// running ones continue.
    public func stopAccepting() {
        lock.lock()
        stopping = true
        lock.broadcast()
        lock.unlock()
    }

    /// Generations queued or running.
    public var active: Int {
        lock.lock()
        defer { lock.unlock() }
        return queue.count + (busy ? 1 : 0)
    }

    /// Ends every queued and running generation at its next step with `.aborted`.
    public func abortAll() {
        lock.lock()
        let pending = queue.map(\.1) + (running.map { [$0] } ?? [])
        lock.unlock()
        for handle in pending { handle.cancel(.aborted) }
    }

    /// A sign of life: after every engine step, and from the model after every layer (a step
    /// over a cold page cache of a huge checkpoint can take long, but it is progressing).
    private func beat() {
        if configuration.stepDelay > 0 { Thread.sleep(forTimeInterval: configuration.stepDelay) }
        lock.lock()
        heartbeat = ProcessInfo.processInfo.systemUptime
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty && !stopping {
                heartbeat = ProcessInfo.processInfo.systemUptime
                _ = lock.wait(until: Date(timeIntervalSinceNow: 1))
            }
            if stopping && queue.isEmpty {
                lock.unlock()
                return
            }
            let (request, handle) = queue.removeFirst()
            busy = true
            running = handle
            heartbeat = ProcessInfo.processInfo.systemUptime
            lock.unlock()
            run(request, handle)
            lock.lock()
            busy = false
            running = nil
            lock.unlock()
        }
    }

    /// Runs one generation to its end, sending its events.
    private func run(_ request: GenerationRequest, _ handle: GenerationHandle) {
        var usage = Usage(promptTokens: request.prompt.count, completionTokens: 0, cachedTokens: 0)
        if let reason = handle.cancellation {
            handle.send(.finished(reason, usage))
            return
        }
        do {
            // Reuse the cached prefix; at least the last prompt token runs again for its logits.
            let cached = model.cachedTokens
            var common = 0
            while common < min(cached.count, request.prompt.count - 1) && cached[common] == request.prompt[common] { common += 1 }
            model.truncate(to: common)
            usage.cachedTokens = common
            var position = common
            while position < request.prompt.count {
                if let reason = handle.cancellation {
                    handle.send(.finished(reason, usage))
                    return
                }
                let end = min(position + model.chunkSize, request.prompt.count)
                try model.append(Array(request.prompt[position..<end]), logits: end == request.prompt.count ? logits : nil)
                position = end
                beat()
            }
            handle.send(.started(cachedTokens: common))

            var sampler = Sampler(request.sampling)
            var detokenizer = IncrementalDetokenizer(tokenizer: tokenizer, skipping: tokenizer.controlIds)
            var stops = StopMatcher(request.stopStrings)
            var pendingLogprobs: [TokenLogprob] = []
            let vocab = model.vocabSize
            while true {
                let raw = request.logprobs.map { _ in Array(UnsafeBufferPointer(start: logits, count: vocab)) }
                let token = sampler.sample(logits, n: vocab)
                sampler.accept(token)
                usage.completionTokens += 1
                if let k = request.logprobs, let raw {
                    pendingLogprobs.append(Self.logprob(of: token, top: k, logits: raw))
                }
                if request.stopTokens.contains(token) && !request.ignoreStopTokens {
                    handle.send(.text(stops.finish() + detokenizer.finish(), logprobs: pendingLogprobs))
                    handle.send(.finished(.stop, usage))
                    return
                }
                switch stops.append(detokenizer.append(token)) {
                case let .text(text):
                    if !text.isEmpty || !pendingLogprobs.isEmpty {
                        handle.send(.text(text, logprobs: pendingLogprobs))
                        pendingLogprobs.removeAll()
                    }
                case let .stopped(before):
                    handle.send(.text(before, logprobs: pendingLogprobs))
                    handle.send(.finished(.stop, usage))
                    return
                }
                if usage.completionTokens >= request.maxTokens || model.cachedTokens.count >= model.capacity {
                    handle.send(.text(stops.finish() + detokenizer.finish(), logprobs: []))
                    handle.send(.finished(.length, usage))
                    return
                }
                if let reason = handle.cancellation {
                    handle.send(.text(stops.finish() + detokenizer.finish(), logprobs: []))
                    handle.send(.finished(reason, usage))
                    return
                }
                try model.append([token], logits: logits)
                beat()
            }
        } catch {
            model.truncate(to: 0)
            handle.send(.failed("\(error)"))
        }
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
