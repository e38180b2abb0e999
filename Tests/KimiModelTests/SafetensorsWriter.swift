import Foundation
import KimiJSON

/// Writes safetensors files for tests: header JSON padded to 8 bytes, then the data, or only
/// its length (`ftruncate`, a sparse file) when no bytes are given.
enum SafetensorsWriter {
    struct Entry {
        let name: String
        let dtype: String
        let shape: [Int]
        var bytes: Int { shape.reduce(1, *) * (dtype == "F8_E4M3" ? 1 : dtype == "F32" || dtype == "I32" ? 4 : dtype == "I64" ? 8 : 2) }
    }

    static func header(_ entries: [Entry]) -> (json: String, dataSize: Int) {
        var object = JSONObject(["__metadata__": .object(JSONObject(["format": .string("pt")]))])
        var offset = 0
        for e in entries {
            object[e.name] = .object(
                JSONObject([
                    "dtype": .string(e.dtype), "shape": .array(e.shape.map { JSONValue($0) }),
                    "data_offsets": .array([JSONValue(offset), JSONValue(offset + e.bytes)]),
                ]))
            offset += e.bytes
        }
        var json = JSONWriter().string(.object(object))
        while (8 + json.utf8.count) % 8 != 0 { json += " " }
        return (json, offset)
    }

    /// Writes `headerJSON` verbatim, then `data` or `dataSize` bytes of holes.
    static func write(_ path: String, headerJSON: String, data: Data? = nil, dataSize: Int = 0, headerLength: UInt64? = nil) throws {
        var file = Data()
        let json = Data(headerJSON.utf8)
        withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        if let data { file.append(data) }
        try file.write(to: URL(fileURLWithPath: path))
        if data == nil && dataSize > 0 {
            let fd = open(path, O_WRONLY)
            defer { close(fd) }
            precondition(fd >= 0)
            let result = ftruncate(fd, off_t(file.count + dataSize))
            precondition(result == 0, "ftruncate failed")
        }
    }

    /// A sparse file of `entries`, with `contents` written in place for the tensors it names.
    static func write(_ path: String, _ entries: [Entry], contents: [String: Data] = [:]) throws {
        let (json, size) = header(entries)
        try write(path, headerJSON: json, dataSize: size)
        guard !contents.isEmpty else { return }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var offset = 8 + json.utf8.count
        for e in entries {
            if let data = contents[e.name] {
                precondition(data.count == e.bytes, "contents of \(e.name)")
                try handle.seek(toOffset: UInt64(offset))
                try handle.write(contentsOf: data)
            }
            offset += e.bytes
        }
    }

    /// Rewrites a safetensors file's header through `edit`, keeping its data bytes.
    static func editHeader(_ path: String, _ edit: (inout JSONObject) -> Void) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let length = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONParser.parse([UInt8](data[8..<8 + length])).object!
        edit(&header)
        try write(path, headerJSON: JSONWriter().string(.object(header)), data: data[(8 + length)...])
    }
}
