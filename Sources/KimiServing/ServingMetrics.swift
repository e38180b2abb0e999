import Foundation
import KimiModel
import Prometheus

/// The server's Prometheus metrics (`GET /metrics`): what the engine and the API record.
public final class ServingMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// Requests answered, by HTTP status.
    private let requestsByStatus: @Sendable (Int) -> Counter
    public let promptTokens: Counter
    public let completionTokens: Counter
    public let cachedTokens: Counter
    public let timeToFirstToken: ValueHistogram
    public let interTokenLatency: ValueHistogram
    public let stepDuration: ValueHistogram
    public let queued: Gauge
    public let running: Gauge
    public let kvUsedBytes: Gauge
    public let kvBudgetBytes: Gauge
    public let cachedPrefixes: Gauge
    public let cachedPrefixTokens: Gauge
    public let lastStep: Gauge
    /// Per kind of step: "decode" (only running sequences' next tokens) or "mixed" (with
    /// prefill chunks): steps, tokens, weight bytes read, distinct routed experts run.
    private let stepCounters: [String: (steps: Counter, tokens: Counter, weightBytes: Counter, routedExperts: Counter)]

    public init() {
        let r = registry
        requestsByStatus = { status in
            r.makeCounter(
                descriptor: Self.metric("kimi_requests_total", "HTTP requests answered, by status"), labels: [("status", "\(status)")])
        }
        promptTokens = r.makeCounter(descriptor: Self.metric("kimi_prompt_tokens_total", "Prompt tokens computed (cached ones excluded)"))
        completionTokens = r.makeCounter(descriptor: Self.metric("kimi_generation_tokens_total", "Tokens generated"))
        cachedTokens = r.makeCounter(
            descriptor: Self.metric("kimi_cached_prompt_tokens_total", "Prompt tokens taken from the prefix cache"))
        let latency = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]
        timeToFirstToken = r.makeValueHistogram(
            descriptor: Self.metric("kimi_time_to_first_token_seconds", "From submission to the first generated token"), buckets: latency)
        interTokenLatency = r.makeValueHistogram(
            descriptor: Self.metric("kimi_inter_token_latency_seconds", "Between consecutive tokens of one generation"), buckets: latency)
        stepDuration = r.makeValueHistogram(
            descriptor: Self.metric("kimi_engine_step_seconds", "Duration of one engine step"), buckets: latency)
        queued = r.makeGauge(descriptor: Self.metric("kimi_queue_depth", "Requests waiting for admission"))
        running = r.makeGauge(descriptor: Self.metric("kimi_running_sequences", "Sequences being computed"))
        kvUsedBytes = r.makeGauge(
            descriptor: Self.metric("kimi_kv_cache_used_bytes", "KV cache reserved by running sequences plus held by cached prefixes"))
        kvBudgetBytes = r.makeGauge(descriptor: Self.metric("kimi_kv_cache_budget_bytes", "KV cache budget (--kv-cache-gib)"))
        cachedPrefixes = r.makeGauge(descriptor: Self.metric("kimi_prefix_cache_entries", "Prompt prefixes the prefix cache holds"))
        cachedPrefixTokens = r.makeGauge(
            descriptor: Self.metric("kimi_prefix_cache_tokens", "KV tokens the prefix cache holds (part of kimi_kv_cache_used_bytes)"))
        lastStep = r.makeGauge(descriptor: Self.metric("kimi_engine_last_step_timestamp_seconds", "Unix time of the engine's last step"))
        var counters: [String: (steps: Counter, tokens: Counter, weightBytes: Counter, routedExperts: Counter)] = [:]
        for kind in ["decode", "mixed"] {
            let labels = [("kind", kind)]
            counters[kind] = (
                r.makeCounter(descriptor: Self.metric("kimi_engine_steps_total", "Engine steps (batched forward passes)"), labels: labels),
                r.makeCounter(descriptor: Self.metric("kimi_engine_step_tokens_total", "Tokens computed by engine steps"), labels: labels),
                r.makeCounter(
                    descriptor: Self.metric(
                        "kimi_engine_weight_bytes_total", "Weight bytes the steps read: every matrix multiplied, once per step"),
                    labels: labels),
                r.makeCounter(
                    descriptor: Self.metric(
                        "kimi_engine_routed_experts_total", "Distinct routed experts the steps ran, summed over MoE layers"), labels: labels
                )
            )
        }
        stepCounters = counters
    }

    public func recordRequest(status: Int) { requestsByStatus(status).increment() }

    func recordStep(seconds: Double, tokens: Int, decodeOnly: Bool, pass: PassStatistics) {
        stepDuration.record(seconds)
        let c = stepCounters[decodeOnly ? "decode" : "mixed"]!
        c.steps.increment()
        c.tokens.increment(by: Int64(tokens))
        c.weightBytes.increment(by: Int64(pass.weightBytes))
        c.routedExperts.increment(by: Int64(pass.routedExperts))
        lastStep.set(Date().timeIntervalSince1970)
    }

    /// A metric named exactly `name` (its unit is part of the name).
    private static func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The exposition text.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
