import KimiKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The compressed MLA cache of one sequence (DeepSeek-V3's `attn_impl = "absorb"`): per layer and token the normalised
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

    /// Bytes one token's entries take over all layers.
    public static func bytesPerToken(_ config: ModelConfig, dtype: DType) -> Int {
        config.numHiddenLayers * config.kvCacheWidth * dtype.size
    }

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

    /// The entries of positions 0 ..< count of `layer` as a (count, width) matrix, for the
    /// weight kernels (keys · queries).
    func matrix(layer: Int, count: Int) -> WeightMatrix {
        WeightMatrix(rows: count, cols: width, data: entry(layer: layer, position: 0), storage: dtype == .bf16 ? .bf16 : .f32)
    }

    /// Makes this cache hold the first `count` entries of `source` (same layout), e.g. a shared
    /// prompt prefix another sequence has computed.
    public func copyPrefix(of source: KVCache, count: Int) {
        precondition(source.width == width && source.layers == layers && source.dtype == dtype && count <= min(source.count, capacity))
        for layer in 0..<layers {
            entry(layer: layer, position: 0).copyMemory(
                from: source.entry(layer: layer, position: 0), byteCount: count * width * dtype.size)
        }
        self.count = count
    }

    /// Forgets every token from `position` on.
    public func truncate(to position: Int) {
        count = min(count, position)
    }
}
