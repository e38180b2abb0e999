import CNUMA
import Foundation
import KimiKernels
import Synchronization

/// Puts weight pages on NUMA nodes (`--numa`). Page-cache pages of a mapped file land on the
/// node of the thread that first faults them in, under that thread's memory policy; so the
/// pages are touched once at start-up: under `interleave` all of them by a thread with an
/// interleave policy, under `distribute` each node's routed experts by a thread running on
/// that node and preferring its memory, the rest interleaved. Pages already in the page cache
/// (an earlier run) stay where they are: drop the cache first to re-place them.
/// The bytes of one matrix (or its scales) and the node that should hold them (nil:
/// interleaved). Sendable: `start` points into a read-only mapped shard.
struct WeightRange: @unchecked Sendable {
    let node: Int?
    let start: UnsafeRawPointer
    let bytes: Int
}

extension KimiTransformer {
    /// Every matrix's bytes, by the node that should hold them.
    func weightRanges() -> [WeightRange] {
        var out: [WeightRange] = []
        func add(_ w: WeightMatrix?, node: Int? = nil) {
            guard let w else { return }
            out.append(WeightRange(node: node, start: w.data, bytes: w.rows * w.rowBytes))
            switch w.storage {
            case let .fp8(scales): out.append(WeightRange(node: node, start: scales, bytes: w.scaleByteCount))
            case let .int4(q): out.append(WeightRange(node: node, start: q.scales, bytes: w.scaleByteCount))
            case .bf16, .f16, .f32: break
            }
        }
        func add(_ m: ModelWeights.MLP, node: Int? = nil) {
            add(m.gate, node: node); add(m.up, node: node); add(m.down, node: node)
        }
        add(weights.embedding)
        for layer in weights.layers {
            let a = layer.attention
            add(a.qA); add(a.qB); add(a.q); add(a.kvA); add(a.kvB); add(a.o)
            switch layer.ffn {
            case let .dense(mlp): add(mlp)
            case let .moe(moe):
                add(moe.router)
                for (e, expert) in moe.experts.enumerated() {
                    add(expert, node: placement.policy == .distribute ? placement.expertNode(e) : nil)
                }
                if let shared = moe.shared { add(shared) }
            }
        }
        add(weights.lmHead)
        return out
    }

    /// Touches every weight page from where the placement wants it; a no-op under `off`.
    public func placeWeights(progress: ((Int, Int) -> Void)? = nil) {
        guard placement.policy != .off else { return }
        let ranges = weightRanges()
        let total = ranges.reduce(0) { $0 + $1.bytes }
        let done = Atomic<Int>(0)
        /// Reads one byte of every page of `selected`; `report` gets the bytes touched so far by
        /// all threads (only the calling thread's call reports).
        @Sendable func touch(_ selected: [WeightRange], report: ((Int) -> Void)? = nil) {
            var sum: UInt8 = 0
            for r in selected {
                var offset = 0
                while offset < r.bytes {
                    sum &+= r.start.load(fromByteOffset: offset, as: UInt8.self)
                    offset += 4096
                }
                report?(done.add(r.bytes, ordering: .relaxed).newValue)
            }
            withExtendedLifetime(sum) {}
        }
        var threads: [Thread] = []
        let finished = DispatchGroup()
        for (k, node) in placement.nodes.enumerated() where placement.policy == .distribute {
            let local = ranges.filter { $0.node == k }
            finished.enter()
            let t = Thread {
                numa_run_on_node(Int32(node))
                numa_set_preferred(Int32(node))
                touch(local)
                finished.leave()
            }
            threads.append(t)
            t.start()
        }
        numa_set_interleave_mask(kimi_numa_all_nodes())
        touch(ranges.filter { $0.node == nil }, report: { progress?($0, total) })
        numa_set_localalloc()
        finished.wait()
        progress?(total, total)
    }
}
