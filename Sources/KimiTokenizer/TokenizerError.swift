/// What can be wrong with a checkpoint's tokenizer files, naming the file and line or key.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    case missingFile(String)
    case invalidRankLine(file: String, line: Int, reason: String)
    case invalidConfig(file: String, reason: String)
    case vocabSizeMismatch(tokenizer: Int, config: Int)

    public var description: String {
        switch self {
        case let .missingFile(path):
            return "cannot read \(path)"
        case let .invalidRankLine(file, line, reason):
            return "\(file):\(line): \(reason)"
        case let .invalidConfig(file, reason):
            return "\(file): \(reason)"
        case let .vocabSizeMismatch(tokenizer, config):
            return "the tokenizer has \(tokenizer) tokens (mergeable ranks + 256 specials) but config.json says vocab_size \(config)"
        }
    }
}
