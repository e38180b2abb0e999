import Foundation
import KimiJSON
import KimiKernels

/// A block-fp8 or unquantised checkpoint rewritten with int4 linear layers in compressed-tensors'
/// "pack-quantized" format (Int4Quantization: BF16 scales per `groupSize` columns), the routed
/// experts by default or every linear layer, and the rest as it was: kept block-fp8 layers
/// described as compressed-tensors "float-quantized" blocks (their `weight_scale_inv` renamed
/// `weight_scale`, the same values), so that one config covers the mix and transformers with
/// compressed-tensors reads it too. The output has the input's shard names, each output shard
/// holding what its input shard held. Tensors are written one at a time and each one's input
/// pages are released after it, so memory stays at one tensor's worth whatever the size.
public struct CheckpointQuantizer {
    public enum Layers: String, CaseIterable, Sendable {
        case experts
        case allLinear = "all-linear"
    }

    /// One output tensor and where its bytes come from.
    public struct Output: Sendable {
        public enum Source: Sendable {
            /// An input tensor's bytes, unchanged (under the same or a new name).
            case copy(String)
            /// The int4 codes and the BF16 scales of an input weight.
            case packed(String), scales(String)
            /// weight_shape: [rows, cols] as I64.
            case shape(rows: Int, cols: Int)
        }

        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let source: Source
        public var byteCount: Int { shape.reduce(1, *) * dtype.size }
    }

    public struct Shard: Sendable {
        public let file: String
        public let tensors: [Output]
        public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }
    }

    public let checkpoint: Checkpoint
    public let groupSize: Int
    public let layers: Layers
    public let shards: [Shard]
    /// The output's `quantization_config`.
    public let quantizationConfig: JSONValue
    /// Bytes of input a copy reads before releasing them.
    public static let copyChunk = 64 << 20
    /// The most memory the writer holds at once: a copy chunk, or the largest quantised
    /// tensor's input (its mapped pages, released after it) and output.
    public let memoryBound: Int

    public var outputBytes: Int { shards.reduce(0) { $0 + $1.byteCount } }

    public struct PlanError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Plans the output of quantising `checkpoint`; nothing is written.
    public init(checkpoint: Checkpoint, groupSize: Int, layers: Layers) throws {
        let c = checkpoint.config
        guard groupSize > 0, groupSize % int4GroupMultiple == 0 else {
            throw PlanError(description: "--group-size \(groupSize) is not a positive multiple of \(int4GroupMultiple)")
        }
        if case .compressedTensors = c.quantization {
            throw PlanError(
                description: "the checkpoint is already compressed-tensors; quantize reads block-fp8 or unquantised checkpoints")
        }
        let problems = TensorManifest.problems(checkpoint)
        guard problems.isEmpty else { throw CheckpointError.invalidTensors(problems) }
        self.checkpoint = checkpoint
        self.groupSize = groupSize
        self.layers = layers

        var quantised: [String: [Int]] = [:]  // weight name -> shape
        var keptFP8 = false, keptFloat = false, largest = 0
        for spec in TensorManifest.tensors(c) where spec.kind == .linear {
            if layers == .allLinear || spec.routedExpert {
                guard spec.shape[1] % groupSize == 0 else {
                    throw PlanError(description: "\(spec.name): \(spec.shape[1]) columns are not a multiple of --group-size \(groupSize)")
                }
                quantised[spec.name] = spec.shape
                let input = TensorManifest.storedNames(spec, c).reduce(0) { $0 + (checkpoint.info($1)?.byteCount ?? 0) }
                let output = spec.shape[0] * (spec.shape[1] / 2 + spec.shape[1] / groupSize * 2)
                largest = max(largest, input + output)
            } else if checkpoint.info(spec.name)?.dtype == .f8e4m3 {
                keptFP8 = true
            } else {
                keptFloat = true
            }
        }
        if keptFP8 && keptFloat {
            throw PlanError(
                description: "the linear layers that stay unquantised mix block-fp8 and float dtypes; quantize needs them in one format")
        }
        memoryBound = max(Self.copyChunk, largest)
        quantizationConfig = Self.config(groupSize: groupSize, layers: layers, keptFP8: keptFP8)

        let scaleSuffix = TensorManifest.scaleSuffix
        shards = checkpoint.shards.map { shard in
            var outputs: [Output] = []
            for info in shard.tensors.values.sorted(by: { $0.offset < $1.offset }) {
                let name = info.name
                if let shape = quantised[name] {
                    let module = String(name.dropLast(".weight".count))
                    outputs.append(
                        Output(name: module + ".weight_packed", dtype: .i32, shape: [shape[0], shape[1] / 8], source: .packed(name)))
                    outputs.append(
                        Output(
                            name: module + ".weight_scale", dtype: .bf16, shape: [shape[0], shape[1] / groupSize], source: .scales(name)))
                    outputs.append(
                        Output(name: module + ".weight_shape", dtype: .i64, shape: [2], source: .shape(rows: shape[0], cols: shape[1])))
                } else if name.hasSuffix(scaleSuffix) {
                    let weight = String(name.dropLast(scaleSuffix.count))
                    if quantised[weight] != nil { continue }
                    // A kept block-fp8 weight's scales under compressed-tensors' name.
                    let renamed = weight.hasSuffix(".weight") ? weight + "_scale" : name
                    outputs.append(Output(name: renamed, dtype: info.dtype, shape: info.shape, source: .copy(name)))
                } else {
                    outputs.append(Output(name: name, dtype: info.dtype, shape: info.shape, source: .copy(name)))
                }
            }
            return Shard(file: shard.name, tensors: outputs)
        }
    }

    /// compressed-tensors' quantization_config for the output: group_0 the int4 layers; with
    /// kept block-fp8 layers, group_1 those as 128×128 float-quantized blocks, the two groups'
    /// targets disjoint.
    static func config(groupSize: Int, layers: Layers, keptFP8: Bool) -> JSONValue {
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        func group(_ targets: [String], _ format: String, _ weights: JSONObject) -> JSONValue {
            .object(
                JSONObject([
                    "targets": strings(targets), "weights": .object(weights), "format": .string(format),
                    "input_activations": .null, "output_activations": .null,
                ]))
        }
        let int4 = JSONObject([
            "num_bits": JSONValue(4), "type": .string("int"), "symmetric": .bool(true), "strategy": .string("group"),
            "group_size": JSONValue(groupSize), "dynamic": .bool(false), "actorder": .null, "block_structure": .null,
            "observer": .string("minmax"),
        ])
        let experts = [#"re:.*mlp\.experts\.\d+\.(gate|up|down)_proj$"#]
        var groups = JSONObject(["group_0": group(layers == .allLinear ? ["Linear"] : experts, "pack-quantized", int4)])
        if keptFP8 {
            let block = JSONObject([
                "num_bits": JSONValue(8), "type": .string("float"), "symmetric": .bool(true), "strategy": .string("block"),
                "block_structure": .array([JSONValue(fp8Block), JSONValue(fp8Block)]), "dynamic": .bool(false),
                "group_size": .null, "actorder": .null, "observer": .string("minmax"),
            ])
            let rest = [#"re:.*self_attn\..*"#, #"re:.*shared_experts\..*"#, #"re:.*mlp\.(gate|up|down)_proj$"#, #"re:.*eh_proj$"#]
            groups["group_1"] = group(rest, "float-quantized", block)
        }
        return .object(
            JSONObject([
                "quant_method": .string("compressed-tensors"), "format": .string(keptFP8 ? "mixed-precision" : "pack-quantized"),
                "config_groups": .object(groups), "ignore": strings(["lm_head"]), "kv_cache_scheme": .null,
                "quantization_status": .string("compressed"),
            ]))
    }

    /// Writes the output into `directory` (created; it must not hold a checkpoint already):
    /// config.json with the new quantization_config, the shards and their index, and the
    /// input's other files (tokenizer, templates, generation config) copied. progress: bytes
    /// written of `outputBytes`.
    public func write(to directory: String, progress: (Int) -> Void) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        func path(_ file: String) -> String { (directory as NSString).appendingPathComponent(file) }
        func source(_ file: String) -> String { (checkpoint.directory as NSString).appendingPathComponent(file) }
        guard !fm.fileExists(atPath: path("config.json")) else {
            throw PlanError(description: "\(directory) already holds a config.json; choose an empty directory")
        }
        for file in try fm.contentsOfDirectory(atPath: checkpoint.directory).sorted()
        where file != "config.json" && file != "model.safetensors.index.json" && !file.hasSuffix(".safetensors") {
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: source(file), isDirectory: &isDirectory), !isDirectory.boolValue {
                try fm.copyItem(atPath: source(file), toPath: path(file))
            }
        }
        var written = 0
        var weightMap = JSONObject()
        for shard in shards {
            try writeShard(shard, to: path(shard.file)) {
                written += $0; progress(written)
            }
            for t in shard.tensors { weightMap[t.name] = .string(shard.file) }
        }
        if shards.count > 1 || fm.fileExists(atPath: source("model.safetensors.index.json")) {
            let index = JSONValue.object(
                JSONObject(["metadata": .object(JSONObject(["total_size": JSONValue(outputBytes)])), "weight_map": .object(weightMap)]))
            try Data(JSONWriter(compact: false).string(index).utf8).write(to: URL(fileURLWithPath: path("model.safetensors.index.json")))
        }
        // config.json last: a directory with one is a finished checkpoint.
        let configData = try Data(contentsOf: URL(fileURLWithPath: source("config.json")))
        guard var config = try JSONParser.parse([UInt8](configData)).object else {
            throw PlanError(description: "config.json is not a JSON object")
        }
        config["quantization_config"] = quantizationConfig
        try Data(JSONWriter(compact: false).string(.object(config)).utf8).write(to: URL(fileURLWithPath: path("config.json")))
    }

    private func writeShard(_ shard: Shard, to path: String, progress: (Int) -> Void) throws {
        var header = JSONObject(["__metadata__": .object(JSONObject(["format": .string("pt")]))])
        var offset = 0
        for t in shard.tensors {
            header[t.name] = .object(
                JSONObject([
                    "dtype": .string(t.dtype.rawValue), "shape": .array(t.shape.map { JSONValue($0) }),
                    "data_offsets": .array([JSONValue(offset), JSONValue(offset + t.byteCount)]),
                ]))
            offset += t.byteCount
        }
        var json = JSONWriter().string(.object(header))
        while json.utf8.count % 8 != 0 { json += " " }  // the data starts 8-byte aligned
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CheckpointError.cannotOpen(path: path, errno: errno) }
        defer { close(fd) }
        func put(_ p: UnsafeRawPointer, _ count: Int) throws {
            var done = 0
            while done < count {
                let n = Glibc.write(fd, p + done, count - done)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw PlanError(description: "writing \(path): \(String(cString: strerror(errno)))") }
                done += n
            }
        }
        var length = UInt64(json.utf8.count).littleEndian
        try put(&length, 8)
        try Array(json.utf8).withUnsafeBytes { try put($0.baseAddress!, $0.count) }
        var pendingScales: (weight: String, scales: [UInt16])?
        for t in shard.tensors {
            switch t.source {
            case let .copy(name):
                let info = checkpoint.info(name)!, p = checkpoint.pointer(name)!
                var done = 0
                while done < info.byteCount {
                    let n = min(Self.copyChunk, info.byteCount - done)
                    try put(p + done, n)
                    release(p + done, n)
                    done += n
                }
            case .packed(let name):
                // The scales follow the codes: quantised once, kept until written.
                let (packed, scales) = quantise(name)
                try packed.withUnsafeBytes { try put($0.baseAddress!, $0.count) }
                pendingScales = (name, scales)
            case .scales(let name):
                guard let (weight, scales) = pendingScales, weight == name else { preconditionFailure("scales before codes: \(name)") }
                try scales.withUnsafeBytes { try put($0.baseAddress!, $0.count) }
                pendingScales = nil
            case let .shape(rows, cols):
                var values = (Int64(rows).littleEndian, Int64(cols).littleEndian)
                try put(&values, 16)
            }
            progress(t.byteCount)
        }
    }

    /// Weight `name` quantised: its packed codes and its BF16 scales; the input's pages are
    /// released after.
    private func quantise(_ name: String) -> (packed: [UInt8], scales: [UInt16]) {
        let info = checkpoint.info(name)!, rows = info.shape[0], cols = info.shape[1]
        let data = checkpoint.pointer(name)!
        let storage: WeightMatrix.Storage =
            info.dtype == .f8e4m3 ? .fp8(scales: checkpoint.pointer(name + TensorManifest.scaleSuffix)!) : .float(info.dtype)
        let matrix = WeightMatrix(rows: rows, cols: cols, data: data, storage: storage)
        let rowBytes = cols / 2, scaleCount = cols / groupSize
        var packed = [UInt8](repeating: 0, count: rows * rowBytes), scales = [UInt16](repeating: 0, count: rows * scaleCount)
        packed.withUnsafeMutableBytes { packedBytes in
            scales.withUnsafeMutableBufferPointer { scaleValues in
                // Rows in blocks across the cores, each writing only its own rows' output.
                let target = RowOutput(packed: packedBytes.baseAddress!, scales: scaleValues.baseAddress!)
                let block = 64, groupSize = groupSize
                DispatchQueue.concurrentPerform(iterations: (rows + block - 1) / block) { b in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: cols) { row in
                        for r in b * block..<min((b + 1) * block, rows) {
                            matrix.row(r, into: row.baseAddress!)
                            Int4Quantization.quantizeRow(
                                row.baseAddress!, cols: cols, groupSize: groupSize, packed: target.packed + r * rowBytes,
                                scales: target.scales + r * scaleCount)
                        }
                    }
                }
            }
        }
        release(data, info.byteCount)
        return (packed, scales)
    }

    /// Where the rows of one quantised tensor go. Sendable: each block of rows writes only its own.
    private struct RowOutput: @unchecked Sendable {
        let packed: UnsafeMutableRawPointer
        let scales: UnsafeMutablePointer<UInt16>
    }

    /// Drops this process's mapping of `count` bytes from `p` (whole pages inside them): the
    /// pages stay in the page cache, out of the process's memory.
    private func release(_ p: UnsafeRawPointer, _ count: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (Int(bitPattern: p) + page - 1) / page * page, end = (Int(bitPattern: p) + count) / page * page
        if end > start { madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_DONTNEED) }
    }
}
