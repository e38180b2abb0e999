/// Several independent matrix products run in one fork/join region: the routed experts' gate
/// and up projections of a MoE layer, their down projections, q_a beside kv_a. Decode runs
/// hundreds of small products per token; grouping them cuts the synchronisations per layer
/// from dozens to a few and balances the threads over all the rows at once. Each product's
/// rows are computed by the same kernels as `linear`, so results are bit-identical to it.
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

    /// Runs the jobs that `add` appends, splitting the rows of all of them across the pool by
    /// their cost (columns × tokens per row), in units of 24 rows. Under `--numa distribute`
    /// each node's threads take the jobs of that node and their share of the others. The job
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
        // Per node: its units of 24 rows (whole GEMV passes and GEMM tiles) and their
        // cumulative cost.
        let unit = 24
        for (j, job) in plan.jobs.enumerated() {
            let rows = job.rows ?? 0..<job.w.rows
            lastPass.weightBytes += job.w.byteCount * rows.count / job.w.rows
            let units = (rows.count + unit - 1) / unit
            for u in 0..<units {
                let k = job.node ?? u * nodes / units
                plan.unitJob[k].append(Int32(j))
                plan.unitStart[k].append(Int32(rows.lowerBound + u * unit))
                plan.total[k] += min(unit, rows.count - u * unit) * job.w.cols * job.tokens
                plan.cumulative[k].append(plan.total[k])
            }
        }
        let jobs = plan.jobs, unitJob = plan.unitJob, unitStart = plan.unitStart
        let cumulative = plan.cumulative, total = plan.total
        let ws = ws, placement = placement
        pool.run { part in
            // This thread's units: those of its node whose cost ends in its slice of the node's total.
            let k = nodes == 1 ? 0 : placement.threadNode[part]
            let members = nodes == 1 ? pool.threads : placement.threads(onNode: k).count
            let index = nodes == 1 ? part : placement.threadRank[part]
            let low = total[k] * index / members, high = total[k] * (index + 1) / members
            let units = unitJob[k].count
            var u = lowerBound(cumulative[k], above: low)
            let p = ws.parts[part]
            while u < units && cumulative[k][u] <= high {
                // Merge consecutive units of one job into one range.
                let j = Int(unitJob[k][u])
                let first = Int(unitStart[k][u])
                var last = u
                while last + 1 < units && Int(unitJob[k][last + 1]) == j && Int(unitStart[k][last + 1]) == Int(unitStart[k][last]) + unit
                        && cumulative[k][last + 1] <= high { last += 1 }
                let job = jobs[j], all = job.rows ?? 0..<job.w.rows
                let rows = first..<min(Int(unitStart[k][last]) + unit, all.upperBound)
                job.w.multiply(job.y + rows.lowerBound - all.lowerBound, yStride: job.yStride ?? all.count, job.x, tokens: job.tokens,
                               rows: rows, scaled: p.scaled, tile: p.tile, accumulators: p.accumulators)
                u = last + 1
            }
        }
    }
}

/// The jobs of one `KimiTransformer.linears` call and, per NUMA node, its units of rows
/// (job index, first row) with their cumulative cost and the node's total.
struct LinearPlan {
    var jobs: [KimiTransformer.LinearJob] = []
    var unitJob: [[Int32]] = [], unitStart: [[Int32]] = [], cumulative: [[Int]] = [], total: [Int] = []

    /// Empties every list, keeping its capacity.
    mutating func reset(nodes: Int) {
        jobs.removeAll(keepingCapacity: true)
        if total.count != nodes {
            unitJob = Array(repeating: [], count: nodes)
            unitStart = unitJob
            cumulative = Array(repeating: [], count: nodes)
            total = Array(repeating: 0, count: nodes)
        }
        for k in 0..<nodes {
            unitJob[k].removeAll(keepingCapacity: true)
            unitStart[k].removeAll(keepingCapacity: true)
            cumulative[k].removeAll(keepingCapacity: true)
            total[k] = 0
        }
    }
}

/// The first index whose value exceeds `value` in an ascending array.
private func lowerBound(_ a: [Int], above value: Int) -> Int {
    var lo = 0, hi = a.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if a[mid] <= value { lo = mid + 1 } else { hi = mid }
    }
    return lo
}
