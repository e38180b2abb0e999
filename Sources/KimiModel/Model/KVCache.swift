#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The compressed MLA cache of one sequence (spec §3.6): per layer and token the normalised
/// latent c (kvLoraRank) followed by the rotated, head-shared k_pe (qkRopeHeadDim), in bf16
/// (the default; 70 272 bytes per token for Kimi K2) or f32. The memory is an anonymous
/// mapping: pages a sequence never reaches are never committed.
public final class KVCache {
    public enum DType: String, Sendable, CaseIterable {
        case bf16, f32
        public var size: Int { self == .bf16 ? 2 : 4 }
    }

    public let layers: Int
    /// kvLoraRank + qkRopeHeadDim
    public let width: Int
    public let capacity: Int
    public let dtype: DType
    /// Tokens whose entries are filled (positions 0..<count).
    public internal(set) var count = 0
    /// (layers, capacity, width) elements of `dtype`
    let storage: UnsafeMutableRawPointer
    let mappedBytes: Int

    public init(config: ModelConfig, capacity: Int, dtype: DType = .bf16) {
        layers = config.numHiddenLayers
        width = config.kvCacheWidth
        self.capacity = capacity
        self.dtype = dtype
        mappedBytes = max(layers * capacity * width * dtype.size, 1)
        let p = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        precondition(p != MAP_FAILED, "cannot reserve \(mappedBytes) bytes of address space for the KV cache")
        storage = p!
    }

    deinit { munmap(storage, mappedBytes) }

    @inline(__always)
    func entry(layer: Int, position: Int) -> UnsafeMutableRawPointer {
        storage + ((layer * capacity + position) * width) * dtype.size
    }

    /// Writes the entry of `position` in `layer`. values: (width).
    func store(layer: Int, position: Int, from values: UnsafePointer<Float>) {
        let e = entry(layer: layer, position: position)
        switch dtype {
        case .f32: e.assumingMemoryBound(to: Float.self).update(from: values, count: width)
        case .bf16:
            let b = e.assumingMemoryBound(to: UInt16.self)
            for i in 0..<width { b[i] = bf16(values[i]) }
        }
    }

    /// scores[j] = (query · entry_j) · scale for the positions j < count of `layer`. query: (width).
    func scores(layer: Int, query: UnsafePointer<Float>, count: Int, scale: Float, into scores: UnsafeMutablePointer<Float>) {
        for j in 0..<count {
            let e = entry(layer: layer, position: j)
            switch dtype {
            case .f32: scores[j] = dot(query, e.assumingMemoryBound(to: Float.self), n: width) * scale
            case .bf16: scores[j] = dotBF16(query, e.assumingMemoryBound(to: UInt16.self), n: width) * scale
            }
        }
    }

    /// out = Σ_{j < count} weights[j] · latent_j (the first `n` values of each entry). out: (n).
    func weightedSum(layer: Int, weights: UnsafePointer<Float>, count: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        out.update(repeating: 0, count: n)
        for j in 0..<count {
            let e = entry(layer: layer, position: j)
            switch dtype {
            case .f32: axpy(out, weights[j], e.assumingMemoryBound(to: Float.self), n: n)
            case .bf16: axpyBF16(out, weights[j], e.assumingMemoryBound(to: UInt16.self), n: n)
            }
        }
    }

    /// Makes this cache hold the first `count` entries of `source` (same layout), e.g. a shared
    /// prompt prefix another sequence has computed.
    public func copyPrefix(of source: KVCache, count: Int) {
        precondition(source.width == width && source.layers == layers && source.dtype == dtype && count <= min(source.count, capacity))
        for layer in 0..<layers {
            entry(layer: layer, position: 0).copyMemory(from: source.entry(layer: layer, position: 0), byteCount: count * width * dtype.size)
        }
        self.count = count
    }

    /// Forgets every token from `position` on.
    public func truncate(to position: Int) {
        count = min(count, position)
    }

    /// Bytes of the whole cache were it filled.
    public var bytes: Int { layers * capacity * width * dtype.size }
}
