/// The compressed MLA cache of one sequence (spec §3.6): per layer and token the normalised
/// latent c (kvLoraRank) followed by the rotated, head-shared k_pe (qkRopeHeadDim).
public final class KVCache {
    public let layers: Int
    /// kvLoraRank + qkRopeHeadDim
    public let width: Int
    public let capacity: Int
    /// Tokens whose entries are filled (positions 0..<count).
    public internal(set) var count = 0
    /// (layers, capacity, width)
    let storage: UnsafeMutablePointer<Float>

    public init(config: ModelConfig, capacity: Int) {
        layers = config.numHiddenLayers
        width = config.kvCacheWidth
        self.capacity = capacity
        storage = .allocate(capacity: layers * capacity * width)
    }

    deinit { storage.deallocate() }

    /// The entry of `position` in `layer`: (width).
    @inline(__always)
    func entry(layer: Int, position: Int) -> UnsafeMutablePointer<Float> {
        storage + (layer * capacity + position) * width
    }

    /// Forgets every token from `position` on.
    public func truncate(to position: Int) {
        count = min(count, position)
    }

    public var bytes: Int { layers * capacity * width * MemoryLayout<Float>.size }
}
