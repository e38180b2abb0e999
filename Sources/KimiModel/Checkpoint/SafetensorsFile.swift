import Foundation
import KimiJSON

/// Where one tensor lives inside a mapped safetensors file.
public struct TensorInfo: Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte offset of the first element from the start of the file (64-bit: shards exceed 4 GiB).
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { shape.reduce(1, *) }
}

/// One `.safetensors` file: an 8-byte little-endian header length, a JSON header, then the data.
/// The header is validated completely before any tensor is used: every entry's dtype and shape,
/// offsets inside the file, sizes equal to dtype × shape, no two tensors overlapping.
public final class SafetensorsFile: Sendable {
    /// Headers larger than this are refused (the format's own reference limit is 100 MB).
    public static let maxHeaderBytes = 100 << 20

    public let file: MappedFile
    public let tensors: [String: TensorInfo]
    public let metadata: [String: String]

    public var name: String { (file.path as NSString).lastPathComponent }

    public init(path: String) throws {
        file = try MappedFile(path: path)
        let name = (path as NSString).lastPathComponent
        func fail(_ reason: String) -> CheckpointError { .invalidHeader(file: name, reason: reason) }

        guard file.size >= 8, let base = file.base else {
            throw fail("the file is \(file.size) bytes, shorter than the 8-byte header length")
        }
        let rawLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard rawLength <= UInt64(Self.maxHeaderBytes) else {
            throw fail("header length \(rawLength) exceeds the \(Self.maxHeaderBytes)-byte limit")
        }
        let headerLength = Int(rawLength)
        guard headerLength <= file.size - 8 else {
            throw fail("header length \(headerLength) runs past the end of the \(file.size)-byte file (truncated?)")
        }
        let dataStart = 8 + headerLength
        let dataSize = file.size - dataStart
        let object: JSONValue
        do {
            object = try JSONParser.parse(UnsafeRawBufferPointer(start: base + 8, count: headerLength))
        } catch {
            throw fail("the header is not valid JSON (\(error))")
        }
        guard let entries = object.object else { throw fail("the header is not a JSON object") }

        var tensors: [String: TensorInfo] = [:]
        tensors.reserveCapacity(entries.count)
        var metadata: [String: String] = [:]
        for (key, value) in entries {
            if key == "__metadata__" {
                guard let m = value.object else { throw fail("__metadata__ is not an object") }
                for (k, v) in m { metadata[k] = v.string ?? JSONWriter().string(v) }
                continue
            }
            tensors[key] = try Self.parseEntry(key, value, file: name, dataStart: dataStart, dataSize: dataSize)
        }
        // No two tensors may share bytes.
        let ordered = tensors.values.filter { $0.byteCount > 0 }.sorted { $0.offset < $1.offset }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.offset < a.offset + a.byteCount {
            throw CheckpointError.overlappingTensors(file: name, first: a.name, second: b.name)
        }
        self.tensors = tensors
        self.metadata = metadata
    }

    private static func parseEntry(_ tensor: String, _ value: JSONValue, file: String, dataStart: Int, dataSize: Int) throws -> TensorInfo {
        func fail(_ reason: String) -> CheckpointError { .invalidTensorEntry(file: file, tensor: tensor, reason: reason) }
        guard value.object != nil else { throw fail("the entry is not a JSON object") }
        guard let dtypeName = value["dtype"]?.string else { throw fail("no dtype") }
        guard let dtype = DType(rawValue: dtypeName) else { throw fail("unknown dtype \(dtypeName)") }
        guard let rawShape = value["shape"]?.array else { throw fail("no shape") }
        var shape: [Int] = []
        var count = 1
        for d in rawShape {
            guard let n = d.int, n >= 0 else { throw fail("shape has a dimension that is not a non-negative integer") }
            let (product, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow else { throw fail("shape \(shape + [n]) overflows") }
            shape.append(n)
            count = product
        }
        guard let offsets = value["data_offsets"]?.array, offsets.count == 2,
            let begin = offsets[0].int, let end = offsets[1].int
        else {
            throw fail("data_offsets is not a pair of integers")
        }
        guard begin >= 0, begin <= end else { throw fail("data_offsets [\(begin), \(end)] are not ordered") }
        guard end <= dataSize else {
            throw fail("data_offsets [\(begin), \(end)] run past the end of the data (\(dataSize) bytes; truncated file?)")
        }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.size)
        guard !overflow, end - begin == bytes else {
            throw fail("holds \(end - begin) bytes but \(dtype.rawValue) \(shape) needs \(bytes)")
        }
        return TensorInfo(name: tensor, dtype: dtype, shape: shape, offset: dataStart + begin, byteCount: bytes)
    }

    /// The pointer to a tensor's first byte.
    public func pointer(_ info: TensorInfo) -> UnsafeRawPointer {
        file.base! + info.offset
    }
}
