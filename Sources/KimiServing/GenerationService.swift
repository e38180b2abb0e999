import Foundation

/// What the API and the process lifecycle use of an engine, whatever model it runs.
public protocol GenerationService: AnyObject, Sendable {
    var metrics: ServingMetrics? { get }
    var snapshot: EngineSnapshot { get }
    /// Queues a generation; its events arrive on the returned handle.
    func submit(_ request: GenerationRequest) throws -> GenerationHandle
    /// Whether the loop is alive: it has shown progress within `tolerance` seconds.
    func isAlive(tolerance: TimeInterval) -> Bool
    /// Starts the engine's thread.
    func start()
    /// Refuses new generations from now on; queued and running ones continue.
    func stopAccepting()
    /// False once `stopAccepting` (or `shutdown`) was called: the service is draining.
    var isAccepting: Bool { get }
    /// Ends every queued and running generation at its next step with `.aborted`.
    func abortAll()
    /// Refuses new generations, ends the others and waits for the loop to stop.
    func shutdown()
}

extension GenerationService {
    /// Generations queued or running.
    public var active: Int {
        let s = snapshot
        return s.queued + s.running
    }
}

/// Why `submit` refused a generation.
public enum SubmitError: Error, Equatable {
    case queueFull(queued: Int)
    case shuttingDown
    /// Prompt plus max_tokens need more KV than the whole budget.
    case tooLarge(needed: Int, budget: Int)
}

/// Counters for tests, /metrics and logs, read under the engine's lock.
public struct EngineSnapshot: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    /// KV tokens reserved by running sequences.
    public var reservedTokens: Int
    /// KV tokens held by the prefix cache.
    public var cachedPrefixTokens: Int
    /// Prefixes the prefix cache holds.
    public var cachedPrefixes: Int
}
