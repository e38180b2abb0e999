/// How an `Engine` batches, admits and caches.
public struct EngineConfiguration: Sendable {
    /// Sequences computed together.
    public var maxRunning: Int = 16
    /// Requests that may wait for admission; more are refused (→ 429).
    public var maxQueued: Int = 64
    /// Prompt tokens one sequence computes per step.
    public var prefillChunk: Int = 64
    /// KV cache tokens all sequences and cached prefixes may hold together.
    public var kvBudgetTokens: Int = 1 << 20
    /// Keep finished sequences' KV for prompts that start the same way.
    public var prefixCaching = true
    public init() {}

    /// Tokens a pass of the model must hold: every decoding sequence and one prefill chunk.
    public var batchTokens: Int { maxRunning + prefillChunk }
}
