import Foundation
import KimiTokenizer

/// The model's vocabulary arranged for computing masks: the ordinary tokens' bytes in a trie
/// laid out in preorder (a rejected byte skips its whole subtree in one jump), and the
/// "plain" tokens — complete UTF-8 without a quote, a backslash or a control character — which
/// inside a string without a pattern are allowed whatever they say, so only their character
/// count is checked; the other tokens have a trie of their own. Built once per tokenizer.
/// Sendable: the trie and token tables are constants after `init`; the mask caches are read
/// and written only under `lock`.
public final class ConstraintVocabulary: @unchecked Sendable {
    struct Node {
        var byte: UInt8
        var depth: UInt16
        /// The token these bytes spell, or -1.
        var token: Int32
        /// The preorder index after this node's subtree.
        var next: Int32
    }

    /// Ordinary ids are 0..<ordinary; specials come after.
    public let ordinary: Int
    public let size: Int
    let tokenBytes: [[UInt8]]
    let all: [Node]
    let special: [Node]
    let plain: [Node]
    let maxTokenBytes: Int
    /// Plain tokens grouped by their number of characters.
    private let plainByCount: [[Int32]]
    private let lock = NSLock()
    private var plainUpTo: [Int: TokenMask] = [:]
    /// Masks of ordinary tokens by schema and (normalized) state: documents revisit the same
    /// states — inside a string, after a comma of the same array — so most steps are lookups.
    private var masks = BoundedCache<MaskKey, TokenMask>(capacity: 1024)
    /// The plain tokens a string automaton takes from a state, by schema, automaton and state.
    private var plainMasks = BoundedCache<DFAKey, TokenMask>(capacity: 1024)

    struct DFAKey: Hashable {
        let schema: CompiledSchema
        let dfa: Int32
        let state: Int32
        static func == (a: DFAKey, b: DFAKey) -> Bool { a.schema === b.schema && a.dfa == b.dfa && a.state == b.state }
        func hash(into h: inout Hasher) {
            h.combine(ObjectIdentifier(schema))
            h.combine(dfa)
            h.combine(state)
        }
    }

    struct MaskKey: Hashable {
        let schema: CompiledSchema
        let state: MatcherState
        static func == (a: MaskKey, b: MaskKey) -> Bool { a.schema === b.schema && a.state == b.state }
        func hash(into h: inout Hasher) {
            h.combine(ObjectIdentifier(schema))
            h.combine(state)
        }
    }

    func cachedMask(_ key: MaskKey) -> TokenMask? {
        lock.lock()
        defer { lock.unlock() }
        return masks[key]
    }

    func storeMask(_ mask: TokenMask, for key: MaskKey) {
        lock.lock()
        defer { lock.unlock() }
        masks[key] = mask
    }

    /// The plain tokens whose characters string automaton `dfa` of `schema` takes from `state`.
    func plainTokens(_ schema: CompiledSchema, dfa: Int32, state: Int32) -> TokenMask {
        let key = DFAKey(schema: schema, dfa: dfa, state: state)
        lock.lock()
        if let hit = plainMasks[key] {
            lock.unlock()
            return hit
        }
        lock.unlock()
        var mask = TokenMask(count: size)
        var levels: [Int32] = []
        walk(plain, DFAMachine(dfa: schema.dfas[Int(dfa)]), from: state, into: &mask, levels: &levels)
        lock.lock()
        plainMasks[key] = mask
        lock.unlock()
        return mask
    }

    public convenience init(tokenizer: Tokenizer) {
        self.init(tokens: (0..<tokenizer.mergeableCount).map { Array(tokenizer.bytes(of: $0) ?? []) }, size: tokenizer.vocabSize)
    }

    /// `tokens[id]`: the bytes of ordinary token id; `size`: the whole vocabulary with specials.
    public init(tokens: [[UInt8]], size: Int) {
        ordinary = tokens.count
        self.size = size
        tokenBytes = tokens
        maxTokenBytes = tokens.map(\.count).max() ?? 0
        var byCount: [[Int32]] = []
        var specials: [Int32] = []
        var plains: [Int32] = []
        for (id, bytes) in tokens.enumerated() {
            if let n = Self.plainCharacters(bytes) {
                while byCount.count <= n { byCount.append([]) }
                byCount[n].append(Int32(id))
                plains.append(Int32(id))
            } else {
                specials.append(Int32(id))
            }
        }
        plainByCount = byCount
        let sorted = Self.sortedByBytes(tokens)
        let isPlain = Set(plains)
        all = Self.trie(tokens, sorted: sorted)
        special = Self.trie(tokens, sorted: sorted.filter { !isPlain.contains($0) })
        plain = Self.trie(tokens, sorted: sorted.filter { isPlain.contains($0) })
    }

    /// The number of characters of a plain token, or nil.
    static func plainCharacters(_ bytes: [UInt8]) -> Int? {
        guard !bytes.isEmpty, !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }),
            String(validating: bytes, as: UTF8.self) != nil
        else { return nil }
        return bytes.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) }
    }

    /// Token ids in the byte order of their spellings (memcmp, shorter first on a tie).
    static func sortedByBytes(_ tokens: [[UInt8]]) -> [Int32] {
        (0..<Int32(tokens.count)).sorted { a, b in
            tokens[Int(a)].withUnsafeBufferPointer { x in
                tokens[Int(b)].withUnsafeBufferPointer { y in
                    guard let p = x.baseAddress, let q = y.baseAddress else { return x.count < y.count }
                    let c = memcmp(p, q, min(x.count, y.count))
                    return c != 0 ? c < 0 : x.count < y.count
                }
            }
        }
    }

    /// The trie of the tokens `sorted` (ids in byte order), in preorder.
    static func trie(_ tokens: [[UInt8]], sorted: [Int32]) -> [Node] {
        var nodes: [Node] = []
        var path: [Int] = []  // node indices of the current path
        var previous: [UInt8] = []
        for id in sorted {
            let bytes = tokens[Int(id)]
            guard !bytes.isEmpty else { continue }
            var common = 0
            while common < min(previous.count, bytes.count) && previous[common] == bytes[common] { common += 1 }
            while path.count > common { nodes[path.removeLast()].next = Int32(nodes.count) }
            for d in common..<bytes.count {
                path.append(nodes.count)
                nodes.append(Node(byte: bytes[d], depth: UInt16(d + 1), token: -1, next: 0))
            }
            nodes[path.last!].token = id
            previous = bytes
        }
        while let i = path.popLast() { nodes[i].next = Int32(nodes.count) }
        return nodes
    }

    /// Marks in `mask` every token of `trie` whose bytes `machine` accepts from `initial`.
    func walk<M: ByteMachine>(_ trie: [Node], _ machine: M, from initial: M.State, into mask: inout TokenMask, levels: inout [M.State]) {
        if levels.count < maxTokenBytes + 1 { levels = [M.State](repeating: initial, count: maxTokenBytes + 1) }
        levels[0] = initial
        trie.withUnsafeBufferPointer { nodes in
            levels.withUnsafeMutableBufferPointer { level in
                var i = 0
                while i < nodes.count {
                    let node = nodes[i]
                    let d = Int(node.depth)
                    if machine.step(level[d - 1], node.byte, into: &level[d]) {
                        if node.token >= 0 { mask.insert(Int(node.token)) }
                        i += 1
                    } else {
                        i = Int(node.next)
                    }
                }
            }
        }
    }

    /// The plain tokens of at most `characters` characters (nil: any number).
    func plainTokens(upTo characters: Int?) -> TokenMask {
        let n = min(characters ?? Int.max, plainByCount.count - 1)
        lock.lock()
        defer { lock.unlock() }
        if let m = plainUpTo[n] { return m }
        var m = TokenMask(count: size)
        if n >= 0 { for c in 0...n { for id in plainByCount[c] { m.insert(Int(id)) } } }
        if plainUpTo.count > 256 { plainUpTo.removeAll() }
        plainUpTo[n] = m
        return m
    }
}

/// What the trie walk advances: a state and a byte step that fails when the byte is refused.
protocol ByteMachine {
    associatedtype State
    func step(_ from: State, _ byte: UInt8, into: inout State) -> Bool
}

extension JSONMatcher: ByteMachine {}

/// A literal-set automaton (the tool-call header) as a `ByteMachine`.
struct DFAMachine: ByteMachine {
    let dfa: ByteDFA
    func step(_ from: Int32, _ byte: UInt8, into: inout Int32) -> Bool {
        into = dfa.step(from, byte)
        return into >= 0
    }
}

/// A dictionary that forgets its oldest entries beyond `capacity`.
struct BoundedCache<Key: Hashable, Value> {
    private var entries: [Key: Value] = [:]
    private var order: [Key] = []
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    subscript(key: Key) -> Value? {
        get { entries[key] }
        set {
            guard let newValue else { return }
            if entries.updateValue(newValue, forKey: key) == nil { order.append(key) }
            if order.count > capacity { entries[order.removeFirst()] = nil }
        }
    }
}
