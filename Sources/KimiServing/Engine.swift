import Foundation
import KimiConstraints
import KimiModel
import KimiTokenizer

/// The serving engine: one thread owns the model and every sequence's state, and runs steps.
/// Each step batches the next token of every decoding sequence with prefill chunks of the
/// sequences still reading their prompts, so a long prompt never stalls running streams and
/// the MoE reads each expert once for all the tokens routed to it. Every row of a pass is
/// computed with arithmetic that does not depend on the other rows, so a request's output does
/// not depend on what runs beside it.
///
/// Admission: at most `maxRunning` sequences run, each reserving KV for its prompt plus
/// `maxTokens`; the reservations and the prefix cache's entries stay within the KV budget
/// (least recently used cache entries are evicted first). Requests that do not fit wait in a
/// bounded queue; beyond it `submit` refuses at once. Cancellation is checked for every
/// sequence at every step, so a client that leaves frees its slot in any phase.
/// Sendable: the queue, the running list, the reservations, the prefix cache and the flags are
/// read and written under `lock`; `thread` is set by `start`, before other threads use the
/// engine; the model and the sequences' state are used by the engine's thread alone.
public final class Engine<Model: InferenceModel>: GenerationService, @unchecked Sendable {
    let model: Model
    let tokenizer: Tokenizer
    /// The vocabulary arranged for grammar masks (requests with response_format or tools).
    let vocabulary: ConstraintVocabulary
    public let configuration: EngineConfiguration
    public let metrics: ServingMetrics?
    private let lock = NSCondition()
    private var queue: [QueuedGeneration] = []
    private var running: [GenerationState<Model.Cache>] = []
    private let prefixes = PrefixCache<Model.Cache>()
    private var reserved = 0
    private var stopping = false
    private var exited = false
    private var thread: Thread?
    /// Seconds since boot of the loop's last sign of life (a step, or a wake while idle).
    private var heartbeat = ProcessInfo.processInfo.systemUptime
    /// (maxRunning, vocabSize) logits of the step's sequences that sample
    private let logits: UnsafeMutablePointer<Float>

    public init(
        model: Model, tokenizer: Tokenizer, configuration: EngineConfiguration = EngineConfiguration(),
        metrics: ServingMetrics? = nil
    ) {
        precondition(configuration.maxRunning >= 1 && configuration.prefillChunk >= 1)
        precondition(
            model.maxBatchTokens >= configuration.batchTokens,
            "a pass must hold every decoding sequence and one prefill chunk")
        self.model = model
        self.tokenizer = tokenizer
        vocabulary = ConstraintVocabulary(tokenizer: tokenizer)
        self.configuration = configuration
        self.metrics = metrics
        logits = .allocate(capacity: configuration.maxRunning * model.vocabSize)
    }

    deinit { logits.deallocate() }

    public func start() {
        model.onProgress { [weak self] in self?.beat() }
        let thread = Thread { self.loop() }  // holds the engine until the loop ends
        thread.name = "kimi-engine"
        thread.stackSize = 8 << 20
        self.thread = thread
        thread.start()
    }

    /// Queues a generation; its events arrive on the returned handle.
    public func submit(_ request: GenerationRequest) throws -> GenerationHandle {
        let needed = Self.reservation(request, maxContext: model.maxContext)
        lock.lock()
        defer { lock.unlock() }
        if stopping { throw SubmitError.shuttingDown }
        guard needed <= configuration.kvBudgetTokens else {
            throw SubmitError.tooLarge(needed: needed, budget: configuration.kvBudgetTokens)
        }
        // Requests that can start at the next step do not count as waiting.
        let free = max(configuration.maxRunning - running.count, 0)
        guard queue.count < configuration.maxQueued + free else { throw SubmitError.queueFull(queued: queue.count) }
        let handle = GenerationHandle()
        queue.append(QueuedGeneration(request: request, handle: handle, reservation: needed))
        metrics?.queued.set(Double(queue.count))
        lock.broadcast()
        return handle
    }

    /// KV tokens a request may fill: its prompt and every token it may generate.
    static func reservation(_ r: GenerationRequest, maxContext: Int) -> Int {
        min(r.prompt.count + min(r.maxTokens, maxContext), maxContext)
    }

    public var snapshot: EngineSnapshot {
        lock.lock()
        defer { lock.unlock() }
        return EngineSnapshot(
            queued: queue.count, running: running.count, reservedTokens: reserved,
            cachedPrefixTokens: prefixes.heldTokens, cachedPrefixes: prefixes.entries.count)
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

    /// False once new generations are refused.
    public var isAccepting: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !stopping
    }

    /// Refuses new generations, ends the others with `.aborted` and waits for the loop to stop.
    public func shutdown() {
        stopAccepting()
        abortAll()
        lock.lock()
        while thread != nil && !exited { lock.wait() }
        lock.unlock()
    }

    /// Ends every queued and running generation at its next step with `.aborted`.
    public func abortAll() {
        lock.lock()
        let pending = queue.map(\.handle) + running.map(\.handle)
        lock.unlock()
        for handle in pending { handle.cancel(.aborted) }
    }

    /// A sign of life: after every engine step, and from the model after every layer (a step
    /// over a cold page cache of a huge checkpoint can take long, but it is progressing).
    private func beat() {
        lock.lock()
        heartbeat = ProcessInfo.processInfo.systemUptime
        lock.unlock()
    }

    private func loop() {
        while true {
            lock.lock()
            while queue.isEmpty && running.isEmpty && !stopping {
                heartbeat = ProcessInfo.processInfo.systemUptime
                _ = lock.wait(until: Date(timeIntervalSinceNow: 1))
            }
            if stopping && queue.isEmpty && running.isEmpty {
                exited = true
                lock.broadcast()
                lock.unlock()
                return
            }
            let finishedInQueue = dropCancelledQueued()
            admit()
            let batch = running
            lock.unlock()
            for q in finishedInQueue {
                q.handle.send(
                    .finished(
                        q.handle.cancellation!, Usage(promptTokens: q.request.prompt.count, completionTokens: 0, cachedTokens: 0),
                        stopString: nil))
            }
            let began = ProcessInfo.processInfo.systemUptime
            let (ended, tokens, decodeOnly) = step(batch)
            if !ended.isEmpty { release(ended) }
            if tokens > 0 {
                metrics?.recordStep(
                    seconds: ProcessInfo.processInfo.systemUptime - began, tokens: tokens, decodeOnly: decodeOnly,
                    pass: model.lastPass)
            }
            beat()
        }
    }

    /// Removes queued requests whose client left (under the lock).
    private func dropCancelledQueued() -> [QueuedGeneration] {
        let gone = queue.filter { $0.handle.isCancelled }
        if !gone.isEmpty { queue.removeAll { $0.handle.isCancelled } }
        return gone
    }

    /// Starts queued requests, in order, while they fit (under the lock).
    private func admit() {
        while let q = queue.first, running.count < configuration.maxRunning {
            while reserved + prefixes.heldTokens + q.reservation > configuration.kvBudgetTokens && prefixes.evictLeastRecentlyUsed() {}
            guard reserved + prefixes.heldTokens + q.reservation <= configuration.kvBudgetTokens else { break }
            queue.removeFirst()
            reserved += q.reservation
            running.append(GenerationState(q, cache: cache(for: q.request.prompt), tokenizer: tokenizer, vocabulary: vocabulary))
        }
        metrics?.queued.set(Double(queue.count))
        metrics?.running.set(Double(running.count))
        metrics?.kvUsedBytes.set(Double((reserved + prefixes.heldTokens) * model.kvBytesPerToken))
    }

    /// A starting sequence's cache, holding the longest prefix of its prompt that is cached or
    /// computed by a running sequence (at least the last prompt token runs again, for its
    /// logits). A finished sequence's cache that the prompt extends is taken over; otherwise
    /// the shared entries are copied, leaving the source intact.
    private func cache(for prompt: [Int]) -> Model.Cache {
        let limit = prompt.count - 1
        let cache: Model.Cache
        if configuration.prefixCaching {
            let cached = prefixes.longestMatch(prompt, limit: limit)
            var fromRunning: (GenerationState<Model.Cache>, Int)?
            for r in running {
                let n = commonPrefix(r.cachedTokens, prompt, limit: limit)
                if n > (fromRunning?.1 ?? 0) { fromRunning = (r, n) }
            }
            if let (index, n) = cached, n >= (fromRunning?.1 ?? 0) {
                if n == prefixes.entries[index].tokens.count {
                    cache = prefixes.remove(at: index).cache
                } else {
                    prefixes.touch(index)
                    cache = model.makeCache()
                    cache.copyPrefix(of: prefixes.entries[index].cache, count: n)
                }
            } else if let (source, n) = fromRunning {
                cache = model.makeCache()
                cache.copyPrefix(of: source.cache, count: n)
            } else {
                cache = model.makeCache()
            }
        } else {
            cache = model.makeCache()
        }
        cache.truncate(to: min(cache.count, limit))
        return cache
    }

    /// Finished sequences leave: their reservation is returned and their cache kept for reuse.
    private func release(_ ended: [GenerationState<Model.Cache>]) {
        lock.lock()
        let gone = Set(ended.map { ObjectIdentifier($0) })
        running.removeAll { gone.contains(ObjectIdentifier($0)) }
        for s in ended {
            reserved -= s.reservation
            if configuration.prefixCaching, s.cache.count == s.cachedTokens.count {
                prefixes.insert(tokens: s.cachedTokens, cache: s.cache)
            }
        }
        while reserved + prefixes.heldTokens > configuration.kvBudgetTokens && prefixes.evictLeastRecentlyUsed() {}
        metrics?.running.set(Double(running.count))
        metrics?.kvUsedBytes.set(Double((reserved + prefixes.heldTokens) * model.kvBytesPerToken))
        lock.unlock()
    }

    /// One pass over the running sequences; returns those that ended, the tokens computed and
    /// whether they were all decode tokens.
    private func step(
        _ batch: [GenerationState<Model.Cache>]
    ) -> (ended: [GenerationState<Model.Cache>], tokens: Int, decodeOnly: Bool) {
        var ended: [GenerationState<Model.Cache>] = []
        var segments: [BatchSegment<Model.Cache>] = []
        var fed: [(GenerationState<Model.Cache>, [Int])] = []
        var sampling: [GenerationState<Model.Cache>] = []
        // Decode tokens first, then prefill chunks in admission order while they fit.
        for s in batch {
            if let reason = s.handle.cancellation {
                s.finish(reason)
                ended.append(s)
            } else if let token = s.nextToken {
                segments.append(BatchSegment(tokens: [token], cache: s.cache, logits: .last))
                fed.append((s, [token]))
                sampling.append(s)
            }
        }
        var room = model.maxBatchTokens - segments.count
        for s in batch where !ended.contains(where: { $0 === s }) && s.nextToken == nil {
            let prompt = s.request.prompt
            let end = min(s.cache.count + configuration.prefillChunk, prompt.count)
            let chunk = Array(prompt[s.cache.count..<end])
            guard chunk.count <= room else { break }
            room -= chunk.count
            segments.append(BatchSegment(tokens: chunk, cache: s.cache, logits: end == prompt.count ? .last : .none))
            fed.append((s, chunk))
            if end == prompt.count { sampling.append(s) }
        }
        guard !segments.isEmpty else { return (ended, 0, true) }
        do {
            try model.forward(segments, logits: logits)
        } catch {
            // A failed pass leaves the caches unknown: every sequence in it fails.
            for s in batch where !ended.contains(where: { $0 === s }) {
                s.handle.send(.failed("\(error)"))
                s.cache.truncate(to: 0)
                s.cachedTokens = []
                ended.append(s)
            }
            return (ended, 0, true)
        }
        for (s, tokens) in fed {
            s.cachedTokens += tokens
            s.nextToken = nil
            if s.cachedTokens.count <= s.request.prompt.count { metrics?.promptTokens.increment(by: Int64(tokens.count)) }
        }
        for (row, s) in sampling.enumerated() {
            if s.sample(logits + row * model.vocabSize, vocab: model.vocabSize, metrics: metrics) {
                ended.append(s)
            }
        }
        let tokens = segments.reduce(0) { $0 + $1.tokens.count }
        return (ended, tokens, tokens == segments.count && fed.allSatisfy { $0.0.cachedTokens.count > $0.0.request.prompt.count })
    }
}
