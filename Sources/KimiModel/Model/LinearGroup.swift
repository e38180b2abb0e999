/// Several independent matrix products run in one fork/join region: the routed experts' gate
/// and up projections of a MoE layer, their down projections, q_a beside kv_a. Decode runs
/// hundreds of small products per token; grouping them cuts the synchronisations per layer
/// from dozens to a few and balances the threads over all the rows at once. Each product's
/// rows are computed by the same kernels as `linear`, so results are bit-identical to it.
extension KimiTransformer {
    /// y (tokens, w.rows) = W · x (tokens, w.cols).
    struct LinearJob {
        let w: WeightMatrix
        let x: UnsafePointer<Float>
        let tokens: Int
        let y: UnsafeMutablePointer<Float>
    }

    /// Runs every job, splitting the rows of all of them across the pool by their cost
    /// (columns × tokens per row), in units of 24 rows.
    func linears(_ jobs: [LinearJob]) {
        for job in jobs { lastPass.weightBytes += job.w.byteCount }
        // Units of 24 rows (whole GEMV passes and GEMM tiles), with their cumulative cost.
        let unit = 24
        var unitJob: [Int32] = [], unitStart: [Int32] = [], cumulative: [Int] = []
        var total = 0
        for (j, job) in jobs.enumerated() {
            var r = 0
            while r < job.w.rows {
                unitJob.append(Int32(j))
                unitStart.append(Int32(r))
                total += min(unit, job.w.rows - r) * job.w.cols * job.tokens
                cumulative.append(total)
                r += unit
            }
        }
        let units = unitJob.count
        let ws = ws, threads = pool.threads
        pool.run { part in
            // This thread's units: those whose cost ends in (total·part/threads, total·(part+1)/threads].
            let low = total * part / threads, high = total * (part + 1) / threads
            var u = lowerBound(cumulative, above: low)
            let p = ws.parts[part]
            while u < units && cumulative[u] <= high {
                // Merge consecutive units of one job into one range.
                let j = Int(unitJob[u])
                let first = Int(unitStart[u])
                var last = u
                while last + 1 < units && Int(unitJob[last + 1]) == j && cumulative[last + 1] <= high { last += 1 }
                let job = jobs[j]
                let rows = first..<min(Int(unitStart[last]) + unit, job.w.rows)
                job.w.multiply(job.y + rows.lowerBound, yStride: job.w.rows, job.x, tokens: job.tokens, rows: rows,
                               scaled: p.scaled, tile: p.tile, accumulators: p.accumulators)
                u = last + 1
            }
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
