#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Everything that can be wrong with a checkpoint directory, each case naming the file,
/// tensor or key at fault.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
    case cannotOpen(path: String, errno: Int32)
    case cannotMap(path: String, errno: Int32)
    case noWeights(directory: String)
    case invalidHeader(file: String, reason: String)
    case invalidTensorEntry(file: String, tensor: String, reason: String)
    case overlappingTensors(file: String, first: String, second: String)
    case invalidIndex(file: String, reason: String)
    case tensorNotInShard(tensor: String, shard: String)
    case duplicateTensor(tensor: String, files: [String])
    case invalidTensors([TensorProblem])

    public var description: String {
        switch self {
        case let .cannotOpen(path, code):
            return "cannot open \(path): \(String(cString: strerror(code)))"
        case let .cannotMap(path, code):
            return "cannot mmap \(path): \(String(cString: strerror(code)))"
        case let .noWeights(directory):
            return "\(directory) holds neither model.safetensors.index.json nor model.safetensors"
        case let .invalidHeader(file, reason):
            return "\(file): invalid safetensors header: \(reason)"
        case let .invalidTensorEntry(file, tensor, reason):
            return "\(file): tensor \(tensor): \(reason)"
        case let .overlappingTensors(file, first, second):
            return "\(file): the data of tensors \(first) and \(second) overlap"
        case let .invalidIndex(file, reason):
            return "\(file): \(reason)"
        case let .tensorNotInShard(tensor, shard):
            return "the index maps \(tensor) to \(shard), whose header does not list it"
        case let .duplicateTensor(tensor, files):
            return "tensor \(tensor) appears in several shards: \(files.joined(separator: ", "))"
        case let .invalidTensors(problems):
            let shown = problems.prefix(20).map { "  " + $0.description }
            let more = problems.count > 20 ? ["  … and \(problems.count - 20) more"] : []
            return "the checkpoint does not match its config.json (\(problems.count) problem\(problems.count == 1 ? "" : "s")):\n"
                + (shown + more).joined(separator: "\n")
        }
    }
}

/// One way a tensor differs from what the architecture needs.
public enum TensorProblem: CustomStringConvertible, Equatable, Sendable {
    case missing(name: String)
    case unexpected(name: String)
    case wrongShape(name: String, expected: [Int], actual: [Int])
    case wrongDType(name: String, expected: String, actual: DType)
    /// Present with the right shape and dtype, but its contents or its fit with its config are wrong.
    case invalid(name: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(name): return "missing: \(name)"
        case let .unexpected(name): return "unexpected: \(name)"
        case let .wrongShape(name, expected, actual):
            return "wrong shape: \(name) is \(actual), expected \(expected)"
        case let .wrongDType(name, expected, actual):
            return "wrong dtype: \(name) is \(actual.rawValue), expected \(expected)"
        case let .invalid(name, reason): return "invalid: \(name): \(reason)"
        }
    }
}
