import ArgumentParser
import Foundation
import HTTPServer
import KimiAPI
import KimiDemo
import KimiJSON
import KimiKernels
import KimiModel
import KimiServing
import KimiTokenizer
import Logging

/// `kimi-serve serve`: the OpenAI-compatible HTTP server.
extension KVCache.DType: ExpressibleByArgument {}
extension NUMAPolicy: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}

public struct ServeCommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model behind an OpenAI-compatible HTTP API.",
        discussion: """
            Endpoints: POST /v1/chat/completions (streaming and not, tools), GET /v1/models, GET /v1/models/{id}, GET /health.
            Every option can also be set with an environment variable KIMI_<OPTION> (dashes as underscores, e.g. KIMI_MAX_QUEUED); \
            a flag on the command line wins. Repeatable options take a comma-separated value; booleans take 1/0/true/false.
            """)

    @Option(
        name: .long,
        help:
            "Checkpoint directory (config.json, safetensors shards, tiktoken.model, tokenizer_config.json); without it, or with \"demo\", the demo checkpoint linked into the binary."
    )
    public var model: String?

    @Option(name: .long, help: "Address to listen on: 127.0.0.1 (default), 0.0.0.0 for all IPv4, :: for all IPv4 and IPv6.")
    public var host = "127.0.0.1"

    @Option(name: .long, help: "TCP port.")
    public var port = 8000

    @Option(
        name: .long, parsing: .singleValue,
        help: "A name clients use in 'model' (repeatable or comma-separated; default: the checkpoint directory's name).")
    public var servedModelName: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help:
            "Require this API key (repeatable or comma-separated); never logged. A key on the command line is visible to every local user in /proc/PID/cmdline: prefer --api-key-file or KIMI_API_KEY in an environment file."
    )
    public var apiKey: [String] = []

    @Option(name: .long, help: "Read API keys from this file, one per line.")
    public var apiKeyFile: String?

    @Option(
        name: .long, parsing: .singleValue,
        help:
            "Web origins allowed to call the API from a browser (CORS), e.g. https://app.example.com (repeatable or comma-separated), or * for any. Default: none, no CORS headers."
    )
    public var allowedOrigins: [String] = []

    @Option(
        name: .long,
        help: "Constrain tool calls to declared functions with arguments valid against their parameters: on or off. Default: on.")
    public var guidedTools: GuidedTools = .on

    @Option(
        name: .long,
        help:
            "Open connections; at the limit a new one displaces the connection idle or stalled the longest, and gets 503 when all are being answered."
    )
    public var maxConnections = 256

    @Option(name: .long, help: "Seconds a request body may send nothing before it is answered 408.")
    public var bodyTimeout: Double = 60

    @Option(
        name: .long,
        help:
            "Longest prompt plus completion, in tokens (default: the config's max_position_embeddings, lowered to what --kv-cache-gib holds)."
    )
    public var maxModelLen: Int?

    @Option(name: .long, help: "Element type of the latent KV cache: bf16 (default) or f32.")
    public var kvCacheDtype: KVCache.DType = .bf16

    @Option(name: .long, help: "Memory for the KV cache, in GiB.")
    public var kvCacheGib: Double = 8

    @Option(name: .long, help: "Requests that may wait for the engine; more get 429 with Retry-After.")
    public var maxQueued = 64

    @Option(
        name: .long, help: "Prompt tokens one request computes per engine step (a long prompt runs in chunks beside the running streams).")
    public var prefillChunk = 64

    @Option(name: .long, help: "Sequences decoded together (continuous batching); more requests wait in the queue.")
    public var maxRunning = 16

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Keep finished sequences' KV cache (within --kv-cache-gib) so that prompts starting the same way reuse it.")
    public var prefixCaching = true

    @Option(name: .long, help: "Compute threads (default: all cores).")
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        name: .long, help: "On SIGTERM / SIGINT, seconds to let running generations finish before they are ended (finish_reason \"abort\")."
    )
    public var shutdownTimeout: Double = 30

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Read every page of the checkpoint before serving, so that the first request is not slow.")
    public var preload = false

    @Option(
        name: .long,
        help:
            "NUMA placement: off (default), interleave (weight pages over all nodes, threads pinned across nodes), distribute (each node holds and computes its block of every layer's experts). Places the weights at start-up; one node means off."
    )
    public var numa: NUMAPolicy = .off

    @Option(name: .long, help: "Least severe log level: trace, debug, info, notice, warning, error, critical.")
    public var logLevel: Logger.Level = .info

    @Option(name: .long, help: "Log line format: logfmt or json.")
    public var logFormat: LogFormat = .logfmt

    @Flag(name: .long, help: "Also log prompts and outputs (they may hold private data; off by default).")
    public var logPrompts = false

    public func validate() throws {
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be between 1 and 65535") }
        guard kvCacheGib > 0, kvCacheGib <= 1_048_576 else {
            throw ValidationError("--kv-cache-gib must be positive and at most 1048576 (1 PiB)")
        }
        guard maxQueued >= 0 else { throw ValidationError("--max-queued must be at least 0") }
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be at least 1") }
        guard maxRunning >= 1 else { throw ValidationError("--max-running must be at least 1") }
        if let maxModelLen, maxModelLen < 2 || maxModelLen > 1 << 32 {
            throw ValidationError("--max-model-len must be between 2 and 4294967296")
        }
        if apiKeyFile != nil && !apiKey.isEmpty { throw ValidationError("give --api-key or --api-key-file, not both") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        guard shutdownTimeout >= 0 else { throw ValidationError("--shutdown-timeout must be at least 0") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
        guard bodyTimeout > 0 else { throw ValidationError("--body-timeout must be positive") }
    }

    /// What the engine runs, made from the checkpoint's transformer once the tokenizer is
    /// loaded; `run()` runs the transformer itself, a test bed a stand-in.
    public typealias ModelFactory = (_ transformer: KimiTransformer, _ tokenizer: Tokenizer, _ kvDType: KVCache.DType) throws ->
        any InferenceModel

    public func run() throws {
        try run { transformer, _, kvDType in TransformerModel(transformer: transformer, kvDType: kvDType) }
    }

    /// The engine for a model of any type.
    static func engine(
        _ model: some InferenceModel, _ tokenizer: Tokenizer, _ configuration: EngineConfiguration, _ metrics: ServingMetrics
    ) -> any GenerationService {
        Engine(model: model, tokenizer: tokenizer, configuration: configuration, metrics: metrics)
    }

    public func run(model makeModel: ModelFactory) throws {
        try requireCPUFeatures()
        let level = logLevel, format = logFormat
        LoggingSystem.bootstrap { LineLogHandler(logLevel: level, label: $0, format: format) }
        let logger = Logger(label: "kimi-serve")
        let notifier = SystemdNotifier()
        try reportingErrors {
            let loading = LoadProgress(notifier: notifier, logger: logger)
            // The port is bound before the model loads: until the API takes over, /health answers
            // "loading" (503), so a router can tell a loading replica from a dead one.
            let gate = StartupGate()
            var serverConfiguration = HTTPServer.Configuration()
            serverConfiguration.host = host
            serverConfiguration.port = port
            serverConfiguration.limits.maxConnections = maxConnections
            serverConfiguration.limits.bodyIdleTimeout = bodyTimeout
            let server = HTTPServer(configuration: serverConfiguration, handler: gate)
            try server.start(existing: Self.socketActivationListener())
            let address = "http://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort)"
            logger.info("listening; /health answers \"loading\" until the model is ready", metadata: ["address": "\(address)"])
            loading.status("validating the checkpoint")
            let (directory, isDemo) = try checkpointDirectory(model)
            if isDemo {
                logger.notice(
                    "no --model given: serving the demo checkpoint linked into the binary (a small model trained to chat and call tools; Scripts/train_demo.py)"
                )
            }
            let checkpoint = try Checkpoint(directory: directory)
            let config = checkpoint.config
            loading.status("mapped \(checkpoint.shards.count) shards (\(formatBytes(checkpoint.mappedBytes)))")
            let dtype = kvCacheDtype
            let kv = try KVBudget(config: config, dtype: dtype, gib: kvCacheGib, maxModelLen: maxModelLen)
            let budgetTokens = kv.tokens, contextLength = kv.contextLength
            var engineConfiguration = EngineConfiguration()
            engineConfiguration.maxQueued = maxQueued
            engineConfiguration.maxRunning = maxRunning
            engineConfiguration.prefillChunk = prefillChunk
            engineConfiguration.kvBudgetTokens = budgetTokens
            engineConfiguration.prefixCaching = prefixCaching
            let transformer = try KimiTransformer(
                checkpoint: checkpoint, maxBatchTokens: engineConfiguration.batchTokens,
                maxContext: contextLength, threads: threads, numa: numa)
            let placement = transformer.placement
            if placement.policy != numa {
                logger.notice(
                    "--numa \(numa.rawValue) runs as \(placement.policy.rawValue)",
                    metadata: ["nodes": "\(placement.nodes.count)", "threads": "\(threads)"])
            }
            if placement.policy != .off {
                transformer.placeWeights { done, total in
                    loading.progress("placing weights (numa \(placement.policy.rawValue))", done, total)
                }
                loading.finishProgress()
            }
            // After placement: pages placed by first touch must not be cached by the preload first.
            if preload {
                checkpoint.touchAllPages { done, total in loading.progress("preloading", done, total) }
                loading.finishProgress()
            }
            logger.info(
                "threads",
                metadata: [
                    "numa": "\(placement.policy.rawValue)", "nodes": "\(placement.nodes.count)",
                    "cpus": "\(placement.threadCPU.map { $0.map(String.init) ?? "-" }.joined(separator: ","))",
                ])
            let tokenizer = try Tokenizer(directory: directory)
            let template = try ChatTemplate.Kind.detect(directory: directory)
            if let note = template.note { logger.warning("\(note)") }
            let inference = try makeModel(transformer, tokenizer, dtype)
            let metrics = ServingMetrics()
            metrics.kvBudgetBytes.set(Double(kv.bytes))
            let engine = Self.engine(inference, tokenizer, engineConfiguration, metrics)

            let keys = try apiKeys(logger: logger)
            var names = servedModelName.flatMap { $0.split(separator: ",").map(String.init) }
            if names.isEmpty {
                names = [isDemo ? DemoCheckpoint.servedModelName : URL(fileURLWithPath: directory).standardizedFileURL.lastPathComponent]
            }
            var apiConfiguration = KimiAPI.Configuration(servedModelNames: names, maxModelLen: contextLength)
            apiConfiguration.apiKeys = keys
            apiConfiguration.logger = Logger(label: "kimi-serve.api")
            apiConfiguration.logPrompts = logPrompts
            apiConfiguration.allowedOrigins = allowedOrigins.flatMap { $0.split(separator: ",").map(String.init) }
            apiConfiguration.guidedTools = guidedTools == .on
            apiConfiguration.chatTemplate = template.kind
            if let interval = notifier.watchdogInterval { apiConfiguration.healthTolerance = max(2 * interval, 10) }
            let api = KimiAPI(
                engine: engine, tokenizer: tokenizer, configuration: apiConfiguration,
                stopTokens: Self.stopTokens(directory: directory, config: config, tokenizer: tokenizer))
            engine.start()
            gate.open(api)
            logger.notice(
                "serving",
                metadata: [
                    "models": "\(names.joined(separator: ","))", "address": "\(address)",
                    "context": "\(contextLength)", "chat_template": "\(template.kind.rawValue)", "kv_cache": "\(dtype.rawValue)",
                    "kv_budget_tokens": "\(budgetTokens)", "max_running": "\(maxRunning)",
                    "threads": "\(transformer.pool.threads)",
                ])
            notifier.send("READY=1\nSTATUS=serving \(names.joined(separator: ", ")) on \(address)")
            Lifecycle(
                engine: engine, server: server, notifier: notifier, logger: logger,
                drainTimeout: shutdownTimeout, health: apiConfiguration.healthTolerance
            ).run()
        }
    }

    /// The listening socket systemd passed (socket activation: LISTEN_FDS=1 for this pid).
    static func socketActivationListener() -> Int32? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["LISTEN_PID"].flatMap(Int32.init) == getpid(), environment["LISTEN_FDS"] == "1" else { return nil }
        return 3
    }

    /// Ids that end an assistant turn: <|im_end|>, [EOS], and generation_config.json's eos ids.
    static func stopTokens(directory: String, config: ModelConfig, tokenizer: Tokenizer) -> Set<Int> {
        var ids = Set(["<|im_end|>", "[EOS]"].compactMap(tokenizer.specialId))
        if let eos = config.eosTokenId { ids.insert(eos) }
        let path = (directory as NSString).appendingPathComponent("generation_config.json")
        if let data = FileManager.default.contents(atPath: path), let json = try? JSONParser.parse([UInt8](data)) {
            switch json["eos_token_id"] {
            case let .array(list)?: ids.formUnion(list.compactMap(\.int))
            case let value?: if let id = value.int { ids.insert(id) }
            case nil: break
            }
        }
        return ids.filter { $0 >= 0 && $0 < tokenizer.vocabSize }
    }
}

/// `--guided-tools`: whether tool calls are generated under their grammar.
public enum GuidedTools: String, ExpressibleByArgument, Sendable {
    case on, off
}
