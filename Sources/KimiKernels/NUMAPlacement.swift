/// How weights and threads are laid out over NUMA nodes (`--numa`).
public enum NUMAPolicy: String, Sendable, CaseIterable {
    /// No placement: the kernel's defaults, threads unpinned.
    case off
    /// Weight pages interleaved over every node; threads pinned, spread over the nodes.
    case interleave
    /// Each node holds a contiguous block of every MoE layer's experts, computed by the threads
    /// pinned to that node, so routed experts are read from local memory; the other weights are
    /// interleaved and computed by all threads.
    case distribute
}

/// The plan for one topology, thread count and policy: which node and CPU each pool thread
/// (part) has, and which node each routed expert lives on. With one node, every policy is `off`.
public struct NUMAPlacement: Sendable, Equatable {
    /// The policy in effect (`off` on a single node).
    public let policy: NUMAPolicy
    /// Node ids in topology order.
    public let nodes: [Int]
    /// Per thread: index into `nodes`.
    public let threadNode: [Int]
    /// Per thread: the CPU it is pinned to (nil: unpinned).
    public let threadCPU: [Int?]
    public let experts: Int
    /// Per node: the threads computing its share of a region (all of them unless `distribute`).
    /// Kept, so that the regions allocate nothing.
    private let nodeThreads: [[Int]]

    public init(topology: NUMATopology, threads: Int, policy requested: NUMAPolicy, experts: Int) {
        let n = topology.nodes.count
        // distribute needs a thread on every node; with fewer threads it interleaves.
        policy = n == 1 ? .off : (requested == .distribute && threads < n ? .interleave : requested)
        nodes = topology.nodes.map(\.id)
        self.experts = experts
        guard policy != .off else {
            threadNode = Array(repeating: 0, count: threads)
            threadCPU = Array(repeating: nil, count: threads)
            nodeThreads = Array(repeating: Array(0..<threads), count: n)
            return
        }
        // Threads in proportion to each node's CPUs: one per node first (when there are
        // enough), then each next one to the node with the most CPUs per thread; pinned to
        // distinct CPUs of their node while they last.
        let cpus = topology.nodes.map { max($0.cpus.count, 1) }
        var counts = Array(repeating: threads >= n ? 1 : 0, count: n)
        while counts.reduce(0, +) < threads {
            let next = (0..<n).max { Double(cpus[$0]) / Double(counts[$0] + 1) < Double(cpus[$1]) / Double(counts[$1] + 1) }!
            counts[next] += 1
        }
        var node: [Int] = [], cpu: [Int?] = []
        for (k, count) in counts.enumerated() {
            for j in 0..<count {
                node.append(k)
                let list = topology.nodes[k].cpus
                cpu.append(j < list.count ? list[j] : nil)
            }
        }
        threadNode = node
        threadCPU = cpu
        let distributed = policy == .distribute
        let lists = (0..<n).map { k in distributed ? node.indices.filter { node[$0] == k } : Array(node.indices) }
        nodeThreads = lists
    }

    public var nodeCount: Int { policy == .distribute ? nodes.count : 1 }

    /// The node (index into `nodes`) holding and computing expert `e` of every MoE layer:
    /// contiguous blocks of experts per node under `distribute`, else 0.
    public func expertNode(_ e: Int) -> Int {
        policy == .distribute ? e * nodes.count / max(experts, 1) : 0
    }

    /// The threads computing a node's share of a region (all of them unless `distribute`).
    public func threads(onNode k: Int) -> [Int] { nodeThreads[k] }
}
