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

    /// out[h·outStride ..< h·outStride + n] = Σ_{j < count} weights[h·stride + j] · latent_j for
    /// h < heads, the latent being the first `n` values of each entry; each sum runs over j in
    /// order. With thirty-two registers: the cache as a matrix through the transposed passes
    /// (every entry decoded once for up to twelve heads; `interleaved`: 12 · count floats); else
    /// entries decoded eight at a time into `tile` (8 · n floats) and used for every head. The
    /// same bits either way.
    func weightedSum(
        layer: Int, weights: UnsafePointer<Float>, stride: Int, heads: Int, count: Int, n: Int,
        into out: UnsafeMutablePointer<Float>, outStride: Int, tile: UnsafeMutablePointer<Float>,
        interleaved: UnsafeMutablePointer<Float>, registers: VectorRegisters = .available
    ) {
        if registers == .thirtyTwo && n % 16 == 0 {
            matrix(layer: layer, count: count).gemvTransposed(
                out, yStride: outStride, weights, xStride: stride, tokens: heads,
                rows: 0..<count, columns: n, interleaved: interleaved, registers: registers)
            return
        }
        for h in 0..<heads { (out + h * outStride).update(repeating: 0, count: n) }
        var j0 = 0
        while j0 < count {
            let block = min(8, count - j0)
            for b in 0..<block {
                let e = entry(layer: layer, position: j0 + b), row = tile + b * n
                switch dtype {
                case .f32: row.update(from: e.assumingMemoryBound(to: Float.self), count: n)
                case .bf16:
                    var i = 0
                    while i + 8 <= n {
                        UnsafeMutableRawPointer(row + i).storeBytes(of: BF16Decoding.load8(e, i), as: SIMD8<Float>.self)
                        i += 8
                    }
                    while i < n {
                        row[i] = BF16Decoding.load1(e, i)
                        i += 1
                    }
                }
            }
            for h in 0..<heads { accumulate(out + h * outStride, weights: weights + h * stride + j0, tile, entries: block, n: n) }
            j0 += block
        }
    }

    /// out += Σ_b weights[b] · tile[b·n ..< b·n + n] for b < entries, in order of b: the chain of
    /// `axpy` calls, with each run of eight vectors of out held in registers over the entries.
    @inline(__always)
    private func accumulate(
        _ out: UnsafeMutablePointer<Float>, weights: UnsafePointer<Float>, _ tile: UnsafePointer<Float>,
        entries: Int, n: Int
    ) {
        let o = UnsafeMutableRawPointer(out), t = UnsafeRawPointer(tile)
        var i = 0
        while i + 64 <= n {
            var a0 = o.loadUnaligned(fromByteOffset: 4 * i, as: SIMD8<Float>.self)
            var a1 = o.loadUnaligned(fromByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            var a2 = o.loadUnaligned(fromByteOffset: 4 * i + 64, as: SIMD8<Float>.self)
            var a3 = o.loadUnaligned(fromByteOffset: 4 * i + 96, as: SIMD8<Float>.self)
            var a4 = o.loadUnaligned(fromByteOffset: 4 * i + 128, as: SIMD8<Float>.self)
            var a5 = o.loadUnaligned(fromByteOffset: 4 * i + 160, as: SIMD8<Float>.self)
            var a6 = o.loadUnaligned(fromByteOffset: 4 * i + 192, as: SIMD8<Float>.self)
            var a7 = o.loadUnaligned(fromByteOffset: 4 * i + 224, as: SIMD8<Float>.self)
            for b in 0..<entries {
                let w = SIMD8<Float>(repeating: weights[b]), e = 4 * (b * n + i)
                a0 = a0.addingProduct(t.loadUnaligned(fromByteOffset: e, as: SIMD8<Float>.self), w)
                a1 = a1.addingProduct(t.loadUnaligned(fromByteOffset: e + 32, as: SIMD8<Float>.self), w)
                a2 = a2.addingProduct(t.loadUnaligned(fromByteOffset: e + 64, as: SIMD8<Float>.self), w)
                a3 = a3.addingProduct(t.loadUnaligned(fromByteOffset: e + 96, as: SIMD8<Float>.self), w)
                a4 = a4.addingProduct(t.loadUnaligned(fromByteOffset: e + 128, as: SIMD8<Float>.self), w)
                a5 = a5.addingProduct(t.loadUnaligned(fromByteOffset: e + 160, as: SIMD8<Float>.self), w)
                a6 = a6.addingProduct(t.loadUnaligned(fromByteOffset: e + 192, as: SIMD8<Float>.self), w)
                a7 = a7.addingProduct(t.loadUnaligned(fromByteOffset: e + 224, as: SIMD8<Float>.self), w)
            }
            o.storeBytes(of: a0, toByteOffset: 4 * i, as: SIMD8<Float>.self)
            o.storeBytes(of: a1, toByteOffset: 4 * i + 32, as: SIMD8<Float>.self)
            o.storeBytes(of: a2, toByteOffset: 4 * i + 64, as: SIMD8<Float>.self)
            o.storeBytes(of: a3, toByteOffset: 4 * i + 96, as: SIMD8<Float>.self)
            o.storeBytes(of: a4, toByteOffset: 4 * i + 128, as: SIMD8<Float>.self)
            o.storeBytes(of: a5, toByteOffset: 4 * i + 160, as: SIMD8<Float>.self)
            o.storeBytes(of: a6, toByteOffset: 4 * i + 192, as: SIMD8<Float>.self)
            o.storeBytes(of: a7, toByteOffset: 4 * i + 224, as: SIMD8<Float>.self)
            i += 64
        }
        if i < n {
            for b in 0..<entries { axpy(out + i, weights[b], tile + b * n + i, n: n - i) }
        }
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
