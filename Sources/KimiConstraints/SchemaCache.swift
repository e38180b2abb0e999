import Foundation
import KimiJSON

/// Compiled schemas by their text: agents send the same tools with every turn, so each schema
/// is compiled once. Bounded; thread-safe.
/// Sendable: `entries` and `order` are read and written only under `lock`.
public final class SchemaCache: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: CompiledSchema] = [:]
    private var order: [String] = []
    public let capacity: Int

    public init(capacity: Int = 512) { self.capacity = capacity }

    public func compiled(_ schema: JSONValue, strict: Bool) throws -> CompiledSchema {
        let key = (strict ? "s" : "l") + JSONWriter().string(schema)
        lock.lock()
        if let hit = entries[key] {
            lock.unlock()
            return hit
        }
        lock.unlock()
        let compiled = try CompiledSchema.compile(schema, strict: strict)
        lock.lock()
        defer { lock.unlock() }
        if entries[key] == nil {
            entries[key] = compiled
            order.append(key)
            if order.count > capacity { entries[order.removeFirst()] = nil }
        }
        return compiled
    }
}
