import Foundation
import KimiKernels
import Synchronization
import Testing

@Suite struct ThreadPoolTests {
    @Test("every part runs once per region, across many regions and pool sizes", arguments: [1, 2, 3, 5])
    func regions(_ threads: Int) {
        let pool = ThreadPool(threads: threads)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: threads)
        defer { counts.deallocate() }
        counts.initialize(repeating: 0, count: threads)
        for _ in 0..<2000 { pool.run { part in counts[part] += 1 } }
        #expect((0..<threads).allSatisfy { counts[$0] == 2000 })
    }

    @Test("parallelFor covers the range exactly once, aligned")
    func coverage() {
        let pool = ThreadPool(threads: 3)
        for count in [0, 1, 5, 12, 13, 100, 1001] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: max(count, 1))
            hits.initialize(repeating: 0, count: max(count, 1))
            pool.parallelFor(count, align: 4) { _, range in
                #expect(range.lowerBound % 4 == 0)
                for i in range { hits[i] += 1 }
            }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
            hits.deallocate()
        }
    }

    @Test("a pool wakes after its workers went to sleep, and can be dropped")
    func sleepAndWake() {
        var pool: ThreadPool? = ThreadPool(threads: 2, spinWindow: 0.001)
        let total = Atomic<Int>(0)
        pool!.run { _ in total.add(1, ordering: .relaxed) }
        Thread.sleep(forTimeInterval: 0.05)  // workers are asleep now
        pool!.run { _ in total.add(1, ordering: .relaxed) }
        #expect(total.load(ordering: .relaxed) == 4)
        pool = nil
        Thread.sleep(forTimeInterval: 0.01)
    }
}
