import CKimiDemo
import Foundation

/// The demo checkpoint linked into the binary (Scripts/train_demo.py): a small model of Kimi
/// K2's architecture and file format that greets, introduces itself and calls tools. It is
/// unpacked once into a directory named after its content hash under the temporary directory,
/// then loaded like any checkpoint (mmap, zero copy).
public enum DemoCheckpoint {
    /// What `--model` names it, and the name it is served under.
    public static let name = "demo"
    public static let servedModelName = "kimi-k2-demo"

    public enum Failure: Error, CustomStringConvertible {
        case corrupt(String)
        case cannotWrite(String)

        public var description: String {
            switch self {
            case let .corrupt(reason): return "the embedded demo checkpoint is corrupt: \(reason)"
            case let .cannotWrite(path): return "cannot unpack the demo checkpoint into \(path)"
            }
        }
    }

    static var blob: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: kimi_demo_blob(), count: kimi_demo_blob_size())
    }

    /// The files of the blob: b"KIMIDEMO", u32 count, then per file u32 name length, the name,
    /// u64 offset and u64 size (little-endian); offsets count from the blob's start.
    static func files() throws -> [(name: String, data: UnsafeRawBufferPointer)] {
        let b = blob
        guard b.count >= 12, String(decoding: b[0..<8], as: UTF8.self) == "KIMIDEMO" else { throw Failure.corrupt("bad magic") }
        var at = 8
        func u32() throws -> Int {
            guard at + 4 <= b.count else { throw Failure.corrupt("truncated header") }
            defer { at += 4 }
            return Int(UInt32(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
        }
        func u64() throws -> Int {
            guard at + 8 <= b.count else { throw Failure.corrupt("truncated header") }
            defer { at += 8 }
            return Int(UInt64(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt64.self)))
        }
        var out: [(String, UnsafeRawBufferPointer)] = []
        for _ in 0..<(try u32()) {
            let length = try u32()
            guard at + length <= b.count else { throw Failure.corrupt("truncated name") }
            let name = String(decoding: b[at..<at + length], as: UTF8.self)
            at += length
            let offset = try u64(), size = try u64()
            guard !name.contains("/"), offset + size <= b.count else { throw Failure.corrupt("entry \(name) out of bounds") }
            out.append((name, UnsafeRawBufferPointer(rebasing: b[offset..<offset + size])))
        }
        return out
    }

    /// The unpacked checkpoint directory (written on first use, then reused).
    public static func directory() throws -> String {
        let files = try files()
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in blob { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        let base = FileManager.default.temporaryDirectory
        let target = base.appendingPathComponent("kimi-serve-demo-\(String(hash, radix: 16))")
        let complete = files.allSatisfy { file in
            (try? FileManager.default.attributesOfItem(atPath: target.appendingPathComponent(file.name).path)[.size] as? Int)
                == file.data.count
        }
        if complete { return target.path }
        // Unpack beside the target, then move it into place in one rename.
        let staging = base.appendingPathComponent("kimi-serve-demo-\(String(hash, radix: 16)).\(getpid())")
        do {
            try? FileManager.default.removeItem(at: staging)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            for file in files {
                try Data(file.data).write(to: staging.appendingPathComponent(file.name))
            }
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            if files.allSatisfy({ FileManager.default.fileExists(atPath: target.appendingPathComponent($0.name).path) }) {
                return target.path  // another process unpacked it first
            }
            throw Failure.cannotWrite(target.path)
        }
        return target.path
    }
}
