import ArgumentParser
import KimiModel

/// How many tokens of KV cache `--kv-cache-gib` holds, and the context one sequence may have:
/// `--max-model-len` when given (refused above the checkpoint's `max_position_embeddings` or
/// above the budget), else the checkpoint's context lowered to the budget.
struct KVBudget {
    let bytesPerToken: Int
    /// Tokens the budget holds over all sequences.
    let tokens: Int
    let contextLength: Int

    var bytes: Int { tokens * bytesPerToken }

    init(config: ModelConfig, dtype: KVCache.DType, gib: Double, maxModelLen: Int?) throws {
        bytesPerToken = KVCache.bytesPerToken(config, dtype: dtype)
        tokens = Int(gib * 1_073_741_824) / max(bytesPerToken, 1)
        if let maxModelLen, maxModelLen > config.maxPositionEmbeddings {
            throw ValidationError(
                "--max-model-len \(maxModelLen) is above the checkpoint's context, max_position_embeddings \(config.maxPositionEmbeddings) in config.json"
            )
        }
        if let maxModelLen, maxModelLen > tokens {
            throw ValidationError(
                "--max-model-len \(maxModelLen) needs \(maxModelLen * bytesPerToken / 1_048_576) MiB of KV cache; --kv-cache-gib allows \(tokens) tokens"
            )
        }
        contextLength = maxModelLen ?? min(config.maxPositionEmbeddings, tokens)
    }
}
