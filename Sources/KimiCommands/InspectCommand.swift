import ArgumentParser
import Foundation
import KimiJSON
import KimiKernels
import KimiModel

/// `kimi-serve inspect --model DIR [--json]`: validates a checkpoint completely without
/// computing anything and prints its summary and memory plan; exits 1 on any problem.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Validate a checkpoint and print its configuration, sizes and memory plan.",
        discussion:
            "Reads config.json and every safetensors header, maps the shards and checks that every tensor the architecture needs is present with the right shape and dtype. Missing, unexpected or mis-shaped tensors are listed and the exit status is 1. Multi-token-prediction layers (num_nextn_predict_layers) are recognised and skipped."
    )

    @Option(name: .long, help: "Checkpoint directory (config.json + safetensors shards), or \"demo\" for the embedded demo checkpoint.")
    var model: String

    @Flag(name: .long, help: "Print one JSON object instead of the human-readable summary.")
    var json = false

    func run() throws {
        try reportingErrors {
            let checkpoint = try Checkpoint(directory: try checkpointDirectory(model).path)
            let summary = ModelSummary(checkpoint: checkpoint)
            let problems = TensorManifest.problems(checkpoint)
            let numaNodes = NUMATopology.detect().nodes.count
            if json {
                print(JSONWriter(compact: false).string(Self.json(summary, numaNodes: numaNodes, problems: problems, directory: model)))
            } else {
                print(Self.text(summary, numaNodes: numaNodes, problems: problems, directory: model))
            }
            if !problems.isEmpty { throw ExitCode(1) }
        }
    }

    /// config.json's quantization method: "none", "fp8" or "compressed-tensors".
    static func quantization(_ c: ModelConfig) -> String {
        switch c.quantization {
        case .none: "none"
        case .blockFP8: "fp8"
        case .compressedTensors: "compressed-tensors"
        }
    }

    static func text(_ s: ModelSummary, numaNodes: Int, problems: [TensorProblem], directory: String) -> String {
        let c = s.config
        var lines: [String] = []
        lines.append(
            "checkpoint  \(directory): \(s.shardCount) shard\(s.shardCount == 1 ? "" : "s"), \(s.tensorCount) tensors, \(formatBytes(s.mappedBytes)) mapped"
        )
        lines.append(
            "model       \(c.modelType): \(c.numHiddenLayers) layers (\(c.firstKDenseReplace) dense, \(c.moeLayerCount) MoE), hidden \(c.hiddenSize), vocab \(c.vocabSize), context \(c.maxPositionEmbeddings)"
        )
        let q = c.qLoraRank.map { "q_lora_rank \($0)" } ?? "q_proj (no q_lora_rank)"
        lines.append(
            "attention   MLA, \(c.numAttentionHeads) heads: \(q), kv_lora_rank \(c.kvLoraRank), qk_nope \(c.qkNopeHeadDim), qk_rope \(c.qkRopeHeadDim), v \(c.vHeadDim)"
        )
        if c.moeLayerCount > 0 {
            lines.append(
                "moe         \(c.nRoutedExperts) routed experts, top \(c.numExpertsPerTok) of \(c.topkGroup)/\(c.nGroup) groups, \(c.nSharedExperts) shared, intermediate \(c.moeIntermediateSize), scaling \(c.routedScalingFactor)\(c.normTopkProb ? ", normalised" : "")"
            )
        }
        if c.firstKDenseReplace > 0 { lines.append("dense mlp   intermediate \(c.intermediateSize)") }
        let rope = RotaryEmbedding(config: c)
        if let y = c.ropeScaling {
            lines.append(
                "rope        yarn factor \(y.factor), original \(y.originalMaxPositionEmbeddings), beta \(y.betaFast)/\(y.betaSlow), theta \(c.ropeTheta); softmax scale \(rope.softmaxScale), cos/sin × \(rope.attentionFactor)"
            )
        } else {
            lines.append("rope        theta \(c.ropeTheta), no scaling; softmax scale \(rope.softmaxScale)")
        }
        lines.append(
            "parameters  \(formatCount(s.totalParameters)) total, \(formatCount(s.activeParameters)) active per token\(s.mtpParameters > 0 ? " (\(formatCount(s.mtpParameters)) in skipped MTP layers)" : "")"
        )
        lines.append(
            "weights     \(formatBytes(s.weightBytes)) as stored (\(Self.quantization(c))); a decode step reads \(formatBytes(s.decodeBytesPerToken))"
        )
        let partWidth = s.formats.map(\.part.count).max() ?? 0, formatWidth = s.formats.map(\.format.count).max() ?? 0
        for f in s.formats {
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
            lines.append(
                "  \(pad(f.part, partWidth))  \(pad(f.format, formatWidth))  \(formatBytes(f.bytes)), \(formatBytes(f.decodeBytes)) per decode step"
            )
        }
        let context = c.maxPositionEmbeddings
        lines.append(
            "kv cache    \(s.kvBytesPerTokenBF16) B per token in bf16 (\(s.kvBytesPerTokenF32) in f32); \(formatBytes(s.kvBytesPerTokenBF16 * context)) for one \(context)-token sequence"
        )
        lines.append("numa        \(numaNodes) node\(numaNodes == 1 ? "" : "s") with CPUs this process may use")
        if problems.isEmpty {
            lines.append("tensors     all \(TensorManifest.tensors(c).count) present with the right shapes and dtypes")
        } else {
            lines.append("tensors     \(problems.count) problem\(problems.count == 1 ? "" : "s"):")
            lines += problems.map { "  " + $0.description }
        }
        return lines.joined(separator: "\n")
    }

    static func json(_ s: ModelSummary, numaNodes: Int, problems: [TensorProblem], directory: String) -> JSONValue {
        let c = s.config
        var rope = JSONObject()
        let r = RotaryEmbedding(config: c)
        rope["theta"] = JSONValue(c.ropeTheta)
        rope["scaling"] =
            c.ropeScaling.map { y in
                .object(
                    JSONObject([
                        "type": .string("yarn"), "factor": JSONValue(y.factor),
                        "original_max_position_embeddings": JSONValue(y.originalMaxPositionEmbeddings),
                        "beta_fast": JSONValue(y.betaFast), "beta_slow": JSONValue(y.betaSlow),
                    ]))
            } ?? .null
        rope["softmax_scale"] = JSONValue(Double(r.softmaxScale))
        rope["attention_factor"] = JSONValue(Double(r.attentionFactor))
        let config = JSONObject([
            "model_type": .string(c.modelType), "vocab_size": JSONValue(c.vocabSize),
            "hidden_size": JSONValue(c.hiddenSize), "num_hidden_layers": JSONValue(c.numHiddenLayers),
            "first_k_dense_replace": JSONValue(c.firstKDenseReplace), "num_attention_heads": JSONValue(c.numAttentionHeads),
            "q_lora_rank": c.qLoraRank.map { JSONValue($0) } ?? .null, "kv_lora_rank": JSONValue(c.kvLoraRank),
            "qk_nope_head_dim": JSONValue(c.qkNopeHeadDim), "qk_rope_head_dim": JSONValue(c.qkRopeHeadDim),
            "v_head_dim": JSONValue(c.vHeadDim), "n_routed_experts": JSONValue(c.nRoutedExperts),
            "n_shared_experts": JSONValue(c.nSharedExperts), "num_experts_per_tok": JSONValue(c.numExpertsPerTok),
            "n_group": JSONValue(c.nGroup), "topk_group": JSONValue(c.topkGroup),
            "max_position_embeddings": JSONValue(c.maxPositionEmbeddings), "quantization": .string(quantization(c)),
        ])
        return .object(
            JSONObject([
                "directory": .string(directory),
                "config": .object(config),
                "rope": .object(rope),
                "shards": JSONValue(s.shardCount),
                "tensors": JSONValue(s.tensorCount),
                "total_parameters": JSONValue(s.totalParameters),
                "active_parameters": JSONValue(s.activeParameters),
                "mtp_parameters": JSONValue(s.mtpParameters),
                "weight_bytes": JSONValue(s.weightBytes),
                "mapped_bytes": JSONValue(s.mappedBytes),
                "decode_bytes_per_token": JSONValue(s.decodeBytesPerToken),
                "formats": .array(
                    s.formats.map {
                        .object(
                            JSONObject([
                                "part": .string($0.part), "format": .string($0.format), "bytes": JSONValue($0.bytes),
                                "decode_bytes_per_token": JSONValue($0.decodeBytes),
                            ]))
                    }),
                "kv_bytes_per_token_bf16": JSONValue(s.kvBytesPerTokenBF16),
                "kv_bytes_per_token_f32": JSONValue(s.kvBytesPerTokenF32),
                "numa_nodes": JSONValue(numaNodes),
                "problems": .array(problems.map { .string($0.description) }),
            ]))
    }
}
