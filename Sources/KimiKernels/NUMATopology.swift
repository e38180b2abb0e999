import CNUMA

#if canImport(Glibc)
import Glibc
#endif

/// The machine's NUMA nodes: which CPUs each has and how much memory. Read with libnuma;
/// tests build fake ones. A machine without NUMA support is one node with every CPU.
public struct NUMATopology: Sendable, Equatable {
    public struct Node: Sendable, Equatable {
        public let id: Int
        /// CPUs of this node that the process may run on, ascending.
        public let cpus: [Int]
        public let memoryBytes: Int

        public init(id: Int, cpus: [Int], memoryBytes: Int) {
            self.id = id
            self.cpus = cpus
            self.memoryBytes = memoryBytes
        }
    }

    public let nodes: [Node]

    public init(nodes: [Node]) {
        precondition(!nodes.isEmpty)
        self.nodes = nodes
    }

    /// One node holding `cpus` (a machine without NUMA).
    public static func single(cpus: [Int]) -> NUMATopology {
        NUMATopology(nodes: [Node(id: 0, cpus: cpus, memoryBytes: 0)])
    }

    /// The nodes that have CPUs this process may use.
    public static func detect() -> NUMATopology {
        let fallback = single(cpus: Array(0..<max(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), 1)))
        guard numa_available() >= 0 else { return fallback }
        var nodes: [Node] = []
        let mask = numa_allocate_cpumask()!
        defer { numa_free_cpumask(mask) }
        let allowed = kimi_numa_all_cpus()
        for node in 0...Int(numa_max_node()) where numa_bitmask_isbitset(kimi_numa_all_nodes(), UInt32(node)) != 0 {
            guard numa_node_to_cpus(Int32(node), mask) == 0 else { continue }
            let cpus = (0..<Int(numa_num_possible_cpus())).filter {
                numa_bitmask_isbitset(mask, UInt32($0)) != 0 && (allowed == nil || numa_bitmask_isbitset(allowed, UInt32($0)) != 0)
            }
            guard !cpus.isEmpty else { continue }
            var free: Int64 = 0
            nodes.append(Node(id: node, cpus: cpus, memoryBytes: Int(max(numa_node_size64(Int32(node), &free), 0))))
        }
        return nodes.isEmpty ? fallback : NUMATopology(nodes: nodes)
    }
}
