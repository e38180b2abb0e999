import Foundation
import KimiJSON

/// A checkpoint directory: `config.json` plus either `model.safetensors.index.json` and the shards
/// it names, or a single `model.safetensors`. Every shard is mapped and its header validated; a
/// weight's `_scale_inv` may sit in another shard than the weight (the index maps each tensor
/// to its shard on its own).
public final class Checkpoint: Sendable {
    public let directory: String
    public let config: ModelConfig
    public let shards: [SafetensorsFile]
    /// Every tensor of every shard, by name.
    public let tensors: [String: (shard: Int, info: TensorInfo)]

    public init(directory: String) throws {
        self.directory = directory
        let configPath = (directory as NSString).appendingPathComponent("config.json")
        guard let configText = try? String(contentsOfFile: configPath, encoding: .utf8) else {
            throw CheckpointError.cannotOpen(path: configPath, errno: ENOENT)
        }
        config = try ModelConfig(json: configText)

        let indexPath = (directory as NSString).appendingPathComponent("model.safetensors.index.json")
        let singlePath = (directory as NSString).appendingPathComponent("model.safetensors")
        var weightMap: [(tensor: String, file: String)] = []
        var files: [String]
        if FileManager.default.fileExists(atPath: indexPath) {
            weightMap = try Self.readIndex(indexPath)
            var seen = Set<String>()
            files = weightMap.map(\.file).filter { seen.insert($0).inserted }.sorted()
        } else if FileManager.default.fileExists(atPath: singlePath) {
            files = ["model.safetensors"]
        } else {
            throw CheckpointError.noWeights(directory: directory)
        }
        shards = try files.map { try SafetensorsFile(path: (directory as NSString).appendingPathComponent($0)) }

        var tensors: [String: (shard: Int, info: TensorInfo)] = [:]
        for (i, shard) in shards.enumerated() {
            for (name, info) in shard.tensors {
                if let other = tensors[name] {
                    throw CheckpointError.duplicateTensor(tensor: name, files: [shards[other.shard].name, shard.name])
                }
                tensors[name] = (i, info)
            }
        }
        for (tensor, file) in weightMap {
            guard let found = tensors[tensor], shards[found.shard].name == file else {
                throw CheckpointError.tensorNotInShard(tensor: tensor, shard: file)
            }
        }
        self.tensors = tensors
    }

    /// The `weight_map` of an index file; shard names must be plain file names.
    static func readIndex(_ path: String) throws -> [(tensor: String, file: String)] {
        let name = (path as NSString).lastPathComponent
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckpointError.cannotOpen(path: path, errno: EACCES)
        }
        let root: JSONValue
        do { root = try JSONParser.parse([UInt8](data)) } catch {
            throw CheckpointError.invalidIndex(file: name, reason: "not valid JSON: \(error)")
        }
        guard let map = root["weight_map"]?.object else {
            throw CheckpointError.invalidIndex(file: name, reason: "no \"weight_map\" object")
        }
        return try map.map { tensor, file in
            guard let file = file.string, !file.isEmpty, !file.contains("/"), file != "..", file != "." else {
                throw CheckpointError.invalidIndex(
                    file: name, reason: "weight_map[\"\(tensor)\"] is not a file name in the checkpoint directory")
            }
            return (tensor, file)
        }
    }

    public func info(_ name: String) -> TensorInfo? { tensors[name]?.info }

    /// The first byte of a tensor in its mapped shard.
    public func pointer(_ name: String) -> UnsafeRawPointer? {
        guard let (shard, info) = tensors[name] else { return nil }
        return shards[shard].pointer(info)
    }

    /// Reads one byte of every page of every shard, so that the page cache holds the model
    /// before it is timed or served (a cold first request would otherwise read from disk).
    @discardableResult
    public func touchAllPages(progress: ((Int, Int) -> Void)? = nil) -> UInt8 {
        var sum: UInt8 = 0
        let total = mappedBytes
        var done = 0
        for shard in shards {
            guard let base = shard.file.base else { continue }
            var offset = 0
            while offset < shard.file.size {
                sum &+= base.load(fromByteOffset: offset, as: UInt8.self)
                offset += 4096
                if offset % (256 << 20) == 0 { progress?(done + offset, total) }
            }
            done += shard.file.size
            progress?(done, total)
        }
        return sum
    }

    /// Bytes of all shard files (what the page cache must hold for the whole model).
    public var mappedBytes: Int { shards.reduce(0) { $0 + $1.file.size } }
}
