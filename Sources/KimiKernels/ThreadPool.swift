import CNUMA
import Foundation
import Synchronization

/// A persistent pool for the engine's fork/join regions (thousands per decode step): the
/// caller runs part 0 itself, workers spin on a generation counter between regions and sleep
/// on a condition variable only after `spinWindow` without work (Dispatch waits 15-20 µs to wake and often runs short regions serially; a spinning
/// worker answers in under a microsecond).
/// Sendable: one thread at a time calls `run` (the engine's), and only it touches `callerCPU`.
public final class ThreadPool: @unchecked Sendable {
    /// What the workers share with the pool; they hold it, not the pool, so that dropping the
    /// pool stops them. Sendable: `task` is written before `generation` is released and read by
    /// the workers after they acquire the new generation, and cleared only once `remaining`
    /// shows that every worker is done with it; the rest are atomics and a condition.
    final class State: @unchecked Sendable {
        let generation = Atomic<Int>(0)
        let remaining = Atomic<Int>(0)
        let sleepers = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
        let condition = NSCondition()
        var task: ((Int) -> Void)?
    }

    public let threads: Int
    private let state = State()
    /// The CPU part 0 (the calling thread) is pinned to at its first region.
    private var callerCPU: Int?

    /// - spinWindow: seconds a worker spins waiting for the next region before it sleeps.
    /// - cpus: per part, the CPU to pin its thread to (nil or missing: not pinned).
    public init(threads: Int, spinWindow: Double = 0.002, cpus: [Int?] = []) {
        self.threads = max(1, threads)
        callerCPU = cpus.first ?? nil
        for worker in 1..<self.threads {
            let cpu = worker < cpus.count ? cpus[worker] : nil
            let thread = Thread { [state] in
                if let cpu { pin(to: cpu) }
                Self.work(worker, state, spinWindow)
            }
            thread.name = "kimi-worker-\(worker)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        state.stopped.store(true, ordering: .releasing)
        state.condition.lock()
        state.condition.broadcast()
        state.condition.unlock()
    }

    /// Runs `body(part)` for part in 0..<threads, part 0 on the calling thread; returns when
    /// all parts are done. One region at a time.
    public func run(_ body: (Int) -> Void) {
        if let cpu = callerCPU {
            pin(to: cpu)
            callerCPU = nil
        }
        if threads == 1 {
            body(0)
            return
        }
        withoutActuallyEscaping(body) { escaping in
            state.task = escaping
            state.remaining.store(threads - 1, ordering: .relaxed)
            state.generation.add(1, ordering: .releasing)
            if state.sleepers.load(ordering: .acquiring) > 0 {
                state.condition.lock()
                state.condition.broadcast()
                state.condition.unlock()
            }
            escaping(0)
            // Spin for the workers; yield now and then so an oversubscribed machine (other
            // processes on these cores) still makes progress.
            var spins = 0
            while state.remaining.load(ordering: .acquiring) > 0 {
                spins += 1
                if spins & 255 == 0 { sched_yield() }
            }
            state.task = nil
        }
    }

    /// Splits `0..<count` into one contiguous range per thread, each starting at a multiple of
    /// `align`, and runs `body(part, range)` on each non-empty range.
    public func parallelFor(_ count: Int, align: Int = 1, _ body: (Int, Range<Int>) -> Void) {
        if threads == 1 || count <= align {
            body(0, 0..<count)
            return
        }
        let units = (count + align - 1) / align
        run { part in
            let begin = min(units * part / threads * align, count)
            let end = min(units * (part + 1) / threads * align, count)
            if begin < end { body(part, begin..<end) }
        }
    }

    private static func work(_ worker: Int, _ state: State, _ spinWindow: Double) {
        var seen = 0  // the initial generation: a region may start before this thread does
        while true {
            // Spin for the next region, then sleep.
            var spinStart = ProcessInfo.processInfo.systemUptime
            var spins = 0
            while state.generation.load(ordering: .acquiring) == seen {
                if state.stopped.load(ordering: .acquiring) { return }
                spins += 1
                if spins & 255 == 0 { sched_yield() }
                if spins & 1023 == 0 && ProcessInfo.processInfo.systemUptime - spinStart > spinWindow {
                    state.condition.lock()
                    state.sleepers.add(1, ordering: .releasing)
                    while state.generation.load(ordering: .acquiring) == seen && !state.stopped.load(ordering: .acquiring) {
                        state.condition.wait()
                    }
                    state.sleepers.subtract(1, ordering: .releasing)
                    state.condition.unlock()
                    spinStart = ProcessInfo.processInfo.systemUptime
                }
            }
            seen += 1
            state.task?(worker)
            state.remaining.subtract(1, ordering: .releasing)
        }
    }
}

/// Pins the calling thread to one CPU (libnuma; sched_setaffinity on thread id 0 = this thread).
func pin(to cpu: Int) {
    guard let mask = numa_allocate_cpumask() else { return }
    defer { numa_free_cpumask(mask) }
    numa_bitmask_setbit(mask, UInt32(cpu))
    _ = numa_sched_setaffinity(0, mask)
}
