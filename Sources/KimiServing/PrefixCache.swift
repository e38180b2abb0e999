/// The KV caches of finished sequences, kept so that a later prompt starting with the same
/// tokens (the next turn of a chat, a shared system prompt or tool declaration) reuses their
/// entries instead of computing them again. Least recently used entries go first when the
/// engine needs their memory.
final class PrefixCache<Cache: SequenceCache> {
    struct Entry {
        /// The tokens whose entries `cache` holds, in order.
        let tokens: [Int]
        let cache: Cache
        var lastUse: UInt64
    }

    private(set) var entries: [Entry] = []
    private var clock: UInt64 = 0
    /// Tokens held by all entries.
    private(set) var heldTokens = 0

    /// Keeps a finished sequence's cache. An entry whose tokens are a prefix of the new one is
    /// dropped (the new one answers every lookup it would).
    func insert(tokens: [Int], cache: Cache) {
        guard !tokens.isEmpty else { return }
        clock += 1
        for i in entries.indices.reversed() where entries[i].tokens.count <= tokens.count && tokens.starts(with: entries[i].tokens) {
            remove(at: i)
        }
        entries.append(Entry(tokens: tokens, cache: cache, lastUse: clock))
        heldTokens += tokens.count
    }

    /// The entry sharing the longest prefix with `prompt`, and that length (at most `limit`).
    func longestMatch(_ prompt: [Int], limit: Int) -> (index: Int, length: Int)? {
        var best: (index: Int, length: Int)?
        for (i, e) in entries.enumerated() {
            let n = commonPrefix(e.tokens, prompt, limit: limit)
            if n > (best?.length ?? 0) { best = (i, n) }
        }
        return best
    }

    /// Marks an entry used now (it stays cached).
    func touch(_ index: Int) {
        clock += 1
        entries[index].lastUse = clock
    }

    /// Removes and returns an entry (its cache now belongs to the caller).
    @discardableResult
    func remove(at index: Int) -> Entry {
        let e = entries.remove(at: index)
        heldTokens -= e.tokens.count
        return e
    }

    /// Drops the least recently used entry, freeing its memory; false when empty.
    func evictLeastRecentlyUsed() -> Bool {
        guard let i = entries.indices.min(by: { entries[$0].lastUse < entries[$1].lastUse }) else { return false }
        remove(at: i)
        return true
    }
}

/// Length of the common prefix of `a` and `b`, at most `limit`.
func commonPrefix(_ a: [Int], _ b: [Int], limit: Int) -> Int {
    let n = min(a.count, b.count, limit)
    var i = 0
    while i < n && a[i] == b[i] { i += 1 }
    return i
}
