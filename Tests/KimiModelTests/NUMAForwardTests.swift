import KimiKernels
import KimiModel
import Testing

/// The forward pass under a fake two-node `--numa distribute` (this machine has one node)
/// gives the same bits as without placement.
@Suite struct NUMAForwardTests {
    @Test("a fake two-node distribute gives bit-identical logits", arguments: Fixtures.names)
    func distributedForward(_ name: String) throws {
        let tokens = try Fixtures.reference(name)[0].tokens
        let plain = try KimiTransformer(directory: Fixtures.checkpoint(name), maxBatchTokens: 16, threads: 3)
        let numa = try KimiTransformer(
            checkpoint: try Checkpoint(directory: Fixtures.checkpoint(name)), maxBatchTokens: 16,
            threads: 4, numa: .distribute,
            topology: NUMATopology(nodes: [.init(id: 0, cpus: [0], memoryBytes: 1 << 30), .init(id: 1, cpus: [1], memoryBytes: 1 << 30)]))
        #expect(numa.placement.policy == .distribute)
        #expect(try numa.logits(tokens, cache: numa.makeCache()) == plain.logits(tokens, cache: plain.makeCache()))
    }
}
