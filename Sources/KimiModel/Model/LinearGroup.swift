import Synchronization

/// Several independent matrix products run in one fork/join region: the routed experts' gate
/// and up projections of a MoE layer, their down projections, q_a beside kv_a. Decode runs
/// hundreds of small products per token; grouping them cuts the synchronisations per layer
/// from dozens to a few and balances the threads over all the rows at once. Which thread
/// computes a row never changes its bits, so grouping changes no result (`linear` is a group
/// of one).
extension KimiTransformer {
    /// y (tokens, yStride) = W[rows] · x (tokens, w.cols), rows: all of W unless given, yStride:
    /// rows.count unless given; `node`: computed by that NUMA node's threads (a routed expert
    /// under `--numa distribute`), nil: by all.
    struct LinearJob {
        let w: WeightMatrix
        let x: UnsafePointer<Float>
        let tokens: Int
        let y: UnsafeMutablePointer<Float>
        var node: Int? = nil
        var rows: Range<Int>? = nil
        var yStride: Int? = nil
    }

    /// Runs the jobs that `add` appends, the pool's threads claiming the rows of all of them in
    /// runs of 24-row units until none are left. Under `--numa distribute` each node's threads
    /// take the jobs of that node and their share of the others. The job
    /// list and its split live in the workspace and keep their capacity: after the first steps
    /// a call allocates nothing.
    func linears(_ add: (inout [LinearJob]) -> Void) {
        // Taken out of the workspace while in use: a local value is mutated in place, without
        // the exclusivity checks of a class's stored property on every append.
        var plan = ws.plan
        ws.plan = LinearPlan()
        defer { ws.plan = plan }
        let nodes = placement.nodeCount
        plan.reset(nodes: nodes)
        add(&plan.jobs)
        // Per node: its units of 24 rows (whole GEMV passes and GEMM tiles).
        let unit = 24
        for (j, job) in plan.jobs.enumerated() {
            let rows = job.rows ?? 0..<job.w.rows
            lastPass.weightBytes += job.w.byteCount * rows.count / job.w.rows
            let units = (rows.count + unit - 1) / unit
            for u in 0..<units {
                let k = job.node ?? u * nodes / units
                plan.unitJob[k].append(Int32(j))
                plan.unitStart[k].append(Int32(rows.lowerBound + u * unit))
            }
        }
        let jobs = plan.jobs, unitJob = plan.unitJob, unitStart = plan.unitStart
        let ws = ws, placement = placement
        let claimed = plan.claimed
        for k in 0..<nodes { claimed[k].units.store(0, ordering: .relaxed) }
        pool.run { part in
            // Guided self-scheduling: each thread claims a run of its node's units, a
            // 1/(2·members) share of what is left, until none are left, so a thread that
            // streams slower than its sibling (another process, its memory farther) takes
            // fewer rows instead of holding the others at the join. Which thread computes a row
            // never changes its bits.
            let k = nodes == 1 ? 0 : placement.threadNode[part]
            let members = nodes == 1 ? pool.threads : placement.threads(onNode: k).count
            let units = unitJob[k].count
            let p = ws.parts[part]
            while true {
                var u = claimed[k].units.load(ordering: .relaxed), end = u
                while u < units {
                    end = u + max(1, (units - u) / (2 * members))
                    let (exchanged, seen) = claimed[k].units.compareExchange(expected: u, desired: end, ordering: .relaxed)
                    if exchanged { break }
                    u = seen
                }
                if u >= units { break }
                while u < end {
                    // Merge consecutive units of one job into one range.
                    let j = Int(unitJob[k][u])
                    let first = Int(unitStart[k][u])
                    var last = u
                    while last + 1 < end && Int(unitJob[k][last + 1]) == j && Int(unitStart[k][last + 1]) == Int(unitStart[k][last]) + unit
                    {
                        last += 1
                    }
                    let job = jobs[j], all = job.rows ?? 0..<job.w.rows
                    let rows = first..<min(Int(unitStart[k][last]) + unit, all.upperBound)
                    job.w.multiply(
                        job.y + rows.lowerBound - all.lowerBound, yStride: job.yStride ?? all.count, job.x, tokens: job.tokens,
                        rows: rows, scaled: p.scaled, tile: p.tile, accumulators: p.accumulators)
                    u = last + 1
                }
            }
        }
    }
}

/// The jobs of one `KimiTransformer.linears` call and, per NUMA node, its units of rows
/// (job index, first row) and how many of them its threads have claimed.
struct LinearPlan {
    final class Claimed: Sendable { let units = Atomic<Int>(0) }
    var jobs: [KimiTransformer.LinearJob] = []
    var unitJob: [[Int32]] = [], unitStart: [[Int32]] = [], claimed: [Claimed] = []

    /// Empties every list, keeping its capacity.
    mutating func reset(nodes: Int) {
        jobs.removeAll(keepingCapacity: true)
        if claimed.count != nodes {
            unitJob = Array(repeating: [], count: nodes)
            unitStart = unitJob
            claimed = (0..<nodes).map { _ in Claimed() }
        }
        for k in 0..<nodes {
            unitJob[k].removeAll(keepingCapacity: true)
            unitStart[k].removeAll(keepingCapacity: true)
        }
    }
}
