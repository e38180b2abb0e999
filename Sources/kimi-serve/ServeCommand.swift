import ArgumentParser
import Foundation
import HTTPServer
import KimiAPI
import KimiJSON
import KimiModel
import KimiServing
import KimiTokenizer

/// `kimi-serve serve`: the OpenAI-compatible HTTP server.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the model behind an OpenAI-compatible HTTP API.",
        discussion: """
            Endpoints: POST /v1/chat/completions (streaming and not, tools), GET /v1/models, GET /v1/models/{id}, GET /health.
            Every option can also be set with an environment variable KIMI_<OPTION> (dashes as underscores, e.g. KIMI_MAX_QUEUED); \
            a flag on the command line wins. Repeatable options take a comma-separated value; booleans take 1/0/true/false.
            """)

    @Option(name: .long, help: "Checkpoint directory (config.json, safetensors shards, tiktoken.model, tokenizer_config.json).")
    var model: String

    @Option(name: .long, help: "Address to listen on: 127.0.0.1 (default), 0.0.0.0 for all IPv4, :: for all IPv4 and IPv6.")
    var host = "127.0.0.1"

    @Option(name: .long, help: "TCP port.")
    var port = 8000

    @Option(name: .long, parsing: .singleValue, help: "A name clients use in 'model' (repeatable or comma-separated; default: the checkpoint directory's name).")
    var servedModelName: [String] = []

    @Option(name: .long, parsing: .singleValue, help: "Require this API key (repeatable or comma-separated); never logged.")
    var apiKey: [String] = []

    @Option(name: .long, help: "Read API keys from this file, one per line.")
    var apiKeyFile: String?

    @Option(name: .long, help: "Longest prompt plus completion, in tokens (default: the config's max_position_embeddings, lowered to what --kv-cache-gib holds).")
    var maxModelLen: Int?

    @Option(name: .long, help: "Element type of the latent KV cache: bf16 (default) or f32.")
    var kvCacheDtype: String = "bf16"

    @Option(name: .long, help: "Memory for the KV cache, in GiB.")
    var kvCacheGib: Double = 8

    @Option(name: .long, help: "Requests that may wait for the engine; more get 429 with Retry-After.")
    var maxQueued = 64

    @Option(name: .long, help: "Prompt tokens computed together in one prefill step.")
    var prefillChunk = 64

    @Option(name: .long, help: .hidden)
    var debugStepDelay: Double = 0

    @Option(name: .long, help: .hidden)
    var debugScriptedOutput: String?

    func validate() throws {
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be between 1 and 65535") }
        guard KVCache.DType(rawValue: kvCacheDtype) != nil else { throw ValidationError("--kv-cache-dtype must be bf16 or f32") }
        guard kvCacheGib > 0 else { throw ValidationError("--kv-cache-gib must be positive") }
        guard maxQueued >= 0 else { throw ValidationError("--max-queued must be at least 0") }
        guard prefillChunk >= 1 else { throw ValidationError("--prefill-chunk must be at least 1") }
        if let maxModelLen, maxModelLen < 2 { throw ValidationError("--max-model-len must be at least 2") }
        if apiKeyFile != nil && !apiKey.isEmpty { throw ValidationError("give --api-key or --api-key-file, not both") }
    }

    func run() throws {
        try requireCPUFeatures()
        try reportingErrors {
            let checkpoint = try Checkpoint(directory: model)
            let config = checkpoint.config
            let dtype = KVCache.DType(rawValue: kvCacheDtype)!
            let bytesPerToken = config.numHiddenLayers * config.kvCacheWidth * dtype.size
            let budgetTokens = Int(kvCacheGib * 1_073_741_824) / max(bytesPerToken, 1)
            let contextLength = min(maxModelLen ?? min(config.maxPositionEmbeddings, budgetTokens), config.maxPositionEmbeddings)
            if let maxModelLen, maxModelLen > budgetTokens {
                throw ValidationError("--max-model-len \(maxModelLen) needs \(maxModelLen * bytesPerToken / 1_048_576) MiB of KV cache; --kv-cache-gib allows \(budgetTokens) tokens")
            }
            let transformer = try KimiTransformer(checkpoint: checkpoint, maxBatchTokens: prefillChunk, maxContext: contextLength)
            let tokenizer = try Tokenizer(directory: model)
            let inference: InferenceModel
            if let debugScriptedOutput {
                inference = try Self.scriptedModel(debugScriptedOutput, tokenizer: tokenizer, capacity: contextLength)
            } else {
                inference = TransformerSequence(transformer: transformer, capacity: contextLength, kvDType: dtype)
            }
            var engineConfiguration = Engine.Configuration()
            engineConfiguration.maxQueued = maxQueued
            engineConfiguration.stepDelay = debugStepDelay
            let engine = Engine(model: inference, tokenizer: tokenizer, configuration: engineConfiguration)

            var keys = apiKey.flatMap { $0.split(separator: ",").map(String.init) }
            if let apiKeyFile {
                guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                    throw ValidationError("cannot read --api-key-file \(apiKeyFile)")
                }
                keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                guard !keys.isEmpty else { throw ValidationError("--api-key-file \(apiKeyFile) holds no key") }
            }
            var names = servedModelName.flatMap { $0.split(separator: ",").map(String.init) }
            if names.isEmpty { names = [URL(fileURLWithPath: model).standardizedFileURL.lastPathComponent] }
            var apiConfiguration = KimiAPI.Configuration(servedModelNames: names, maxModelLen: contextLength)
            apiConfiguration.apiKeys = keys
            let api = KimiAPI(engine: engine, tokenizer: tokenizer, configuration: apiConfiguration,
                              stopTokens: Self.stopTokens(directory: model, config: config, tokenizer: tokenizer))
            var serverConfiguration = HTTPServer.Configuration()
            serverConfiguration.host = host
            serverConfiguration.port = port
            let server = HTTPServer(configuration: serverConfiguration, handler: api)
            engine.start()
            try server.start()
            printError("kimi-serve: serving \(names.joined(separator: ", ")) (context \(contextLength) tokens, KV cache \(dtype.rawValue)) on http://\(host.contains(":") ? "[\(host)]" : host):\(server.boundPort)")
            while true { sleep(3600) }
        }
    }

    /// Test hook: a JSON array of model outputs (text with Kimi's markers), answered in turn to
    /// successive requests, each ended by <|im_end|>.
    static func scriptedModel(_ path: String, tokenizer: Tokenizer, capacity: Int) throws -> ScriptedModel {
        guard let data = FileManager.default.contents(atPath: path), let list = try JSONParser.parse([UInt8](data)).array,
              !list.isEmpty, list.allSatisfy({ $0.string != nil }) else {
            throw ValidationError("--debug-scripted-output must name a JSON array of strings")
        }
        let end = tokenizer.specialId("<|im_end|>")!
        return ScriptedModel(scripts: list.map { tokenizer.encode($0.string!) + [end] }, vocabSize: tokenizer.vocabSize, capacity: capacity)
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
