import KimiKernels
import Testing

/// NUMA placement against fake topologies (this machine has one node).
@Suite struct NUMATests {
    static func topology(_ cpus: [[Int]]) -> NUMATopology {
        NUMATopology(nodes: cpus.enumerated().map { .init(id: $0.offset, cpus: $0.element, memoryBytes: 1 << 30) })
    }

    @Test("distribute: threads split per node and pinned to its CPUs, experts in contiguous blocks per node")
    func distribute() {
        let p = NUMAPlacement(topology: Self.topology([[0, 1, 2, 3], [4, 5, 6, 7]]), threads: 8, policy: .distribute, experts: 64)
        #expect(p.policy == .distribute && p.nodeCount == 2)
        #expect(p.threadNode == [0, 0, 0, 0, 1, 1, 1, 1])
        #expect(p.threadCPU == [0, 1, 2, 3, 4, 5, 6, 7])
        #expect((0..<64).map(p.expertNode) == Array(repeating: 0, count: 32) + Array(repeating: 1, count: 32))
        #expect(p.threads(onNode: 1) == [4, 5, 6, 7])
        #expect(p.threads(onNode: 0) == [0, 1, 2, 3])
    }

    @Test("threads follow the CPUs of uneven nodes; more threads than CPUs stay unpinned")
    func uneven() {
        let p = NUMAPlacement(topology: Self.topology([[0, 1], [2, 3, 4, 5, 6, 7]]), threads: 4, policy: .distribute, experts: 8)
        #expect(p.threadNode == [0, 1, 1, 1] && p.threadCPU == [0, 2, 3, 4])
        #expect(p.threads(onNode: 0) == [0] && p.threads(onNode: 1) == [1, 2, 3])
        let q = NUMAPlacement(topology: Self.topology([[0], [1]]), threads: 4, policy: .interleave, experts: 8)
        #expect(q.threadNode == [0, 0, 1, 1] && q.threadCPU == [0, nil, 1, nil])
        #expect(q.nodeCount == 1 && q.expertNode(7) == 0 && q.threads(onNode: 0) == [0, 1, 2, 3])
        #expect(q.threads(onNode: 1) == [0, 1, 2, 3])
    }

    @Test("one node, or fewer threads than nodes, degrade to off and interleave")
    func degrade() {
        let single = NUMAPlacement(topology: Self.topology([[0, 1]]), threads: 2, policy: .distribute, experts: 8)
        #expect(single.policy == .off && single.threadCPU == [nil, nil])
        let few = NUMAPlacement(topology: Self.topology([[0], [1], [2]]), threads: 2, policy: .distribute, experts: 8)
        #expect(few.policy == .interleave)
        #expect(NUMATopology.detect().nodes.allSatisfy { !$0.cpus.isEmpty })
    }
}
