import Synchronization

/// y (tokens, yStride) = W[rows] · x (tokens, w.cols): rows all of W unless given, yStride
/// rows.count unless given; `node`: computed by that NUMA node's threads (a routed expert under
/// `--numa distribute`), nil: by all.
public struct Product {
    let w: WeightMatrix
    let x: UnsafePointer<Float>
    let tokens: Int
    let y: UnsafeMutablePointer<Float>
    let rows: Range<Int>
    let yStride: Int
    let node: Int?

    public init(
        _ w: WeightMatrix, _ x: UnsafePointer<Float>, tokens: Int, into y: UnsafeMutablePointer<Float>, rows: Range<Int>? = nil,
        yStride: Int? = nil, node: Int? = nil
    ) {
        self.w = w
        self.x = x
        self.tokens = tokens
        self.y = y
        self.rows = rows ?? 0..<w.rows
        self.yStride = yStride ?? self.rows.count
        self.node = node
    }

    /// Bytes of W this product reads.
    var bytes: Int { w.byteCount(rows: rows) }
}

/// y_t (yStride apart) = W[rows]ᵀ · x_t (xStride apart) for t < tokens, as
/// `WeightMatrix.multiplyTransposed`: one band of rows, all tokens.
public struct TransposedProduct {
    let w: WeightMatrix
    let x: UnsafePointer<Float>
    let xStride: Int
    let tokens: Int
    let y: UnsafeMutablePointer<Float>
    let yStride: Int
    let rows: Range<Int>

    public init(
        _ w: WeightMatrix, rows: Range<Int>, _ x: UnsafePointer<Float>, xStride: Int, tokens: Int,
        into y: UnsafeMutablePointer<Float>, yStride: Int
    ) {
        self.w = w
        self.rows = rows
        self.x = x
        self.xStride = xStride
        self.tokens = tokens
        self.y = y
        self.yStride = yStride
    }

    /// Bytes of W this product reads.
    var bytes: Int { w.byteCount(rows: rows) }
}

/// Runs groups of products on a thread pool, each thread with its own scratch: the routed
/// experts' gate and up projections of a MoE layer in one region, their down projections in
/// another, q_a beside kv_a. Decode runs hundreds of small products per token; grouping them
/// cuts the synchronisations per layer from dozens to a few and balances the threads over all
/// the rows at once. Which thread computes a row never changes its bits, so the grouping and
/// the thread count change no result.
public final class ProductScheduler {
    public let pool: ThreadPool
    /// Where the pool's threads run (`--numa`).
    public let placement: NUMAPlacement
    /// Per thread of the pool.
    private let scratch: [KernelScratch]
    /// The products of a `run` call and their split across threads, reused: after the first
    /// steps a call allocates nothing.
    private var plan = Plan()
    private var transposed: [TransposedProduct] = []

    /// Rows per unit of work: whole GEMV passes and GEMM tiles.
    private static let unit = 24

    /// - scratch: the room each thread's kernels get (`KernelScratch.init`).
    public init(placement: NUMAPlacement, tokens: Int, columns: Int, rows: Int) {
        self.placement = placement
        pool = ThreadPool(threads: placement.threadCPU.count, cpus: placement.threadCPU)
        scratch = (0..<pool.threads).map { _ in KernelScratch(tokens: tokens, columns: columns, rows: rows) }
    }

    /// Runs the products that `add` appends, the pool's threads claiming their rows in runs of
    /// 24-row units until none are left; returns the bytes of the matrices they read. Under
    /// `--numa distribute` each node's threads take the products of that node and their share
    /// of the others.
    @discardableResult
    public func run(_ add: (inout [Product]) -> Void) -> Int {
        // Taken out of the scheduler while in use: a local value is mutated in place, without
        // the exclusivity checks of a class's stored property on every append.
        var plan = self.plan
        self.plan = Plan()
        defer { self.plan = plan }
        let nodes = placement.nodeCount, unit = Self.unit
        plan.reset(nodes: nodes)
        add(&plan.products)
        var bytes = 0
        for (j, product) in plan.products.enumerated() {
            bytes += product.bytes
            let units = (product.rows.count + unit - 1) / unit
            for u in 0..<units {
                let k = product.node ?? u * nodes / units
                plan.unitProduct[k].append(Int32(j))
                plan.unitStart[k].append(Int32(product.rows.lowerBound + u * unit))
            }
        }
        let products = plan.products, unitProduct = plan.unitProduct, unitStart = plan.unitStart
        let claimed = plan.claimed, placement = placement, scratch = scratch, threads = pool.threads
        for k in 0..<nodes { claimed[k].units.store(0, ordering: .relaxed) }
        pool.run { part in
            // Guided self-scheduling: each thread claims a run of its node's units, a
            // 1/(2·members) share of what is left, until none are left, so a thread that
            // streams slower than its sibling (another process, its memory farther) takes
            // fewer rows instead of holding the others at the join.
            let k = nodes == 1 ? 0 : placement.threadNode[part]
            let members = nodes == 1 ? threads : placement.threads(onNode: k).count
            let units = unitProduct[k].count
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
                    // Consecutive units of one product go as one range.
                    let j = Int(unitProduct[k][u]), first = Int(unitStart[k][u])
                    var last = u
                    while last + 1 < end && Int(unitProduct[k][last + 1]) == j
                        && Int(unitStart[k][last + 1]) == Int(unitStart[k][last]) + unit
                    {
                        last += 1
                    }
                    let p = products[j]
                    let rows = first..<min(Int(unitStart[k][last]) + unit, p.rows.upperBound)
                    p.w.multiply(
                        into: p.y + rows.lowerBound - p.rows.lowerBound, yStride: p.yStride, p.x, tokens: p.tokens, rows: rows,
                        scratch: scratch[part])
                    u = last + 1
                }
            }
        }
        return bytes
    }

    /// Runs the transposed products that `add` appends, split across the threads by product;
    /// returns the bytes of the matrices they read.
    @discardableResult
    public func runTransposed(_ add: (inout [TransposedProduct]) -> Void) -> Int {
        var products = transposed
        transposed = []
        defer { transposed = products }
        products.removeAll(keepingCapacity: true)
        add(&products)
        let list = products, scratch = scratch
        pool.parallelFor(list.count) { part, range in
            for p in list[range] {
                p.w.multiplyTransposed(
                    into: p.y, yStride: p.yStride, p.x, xStride: p.xStride, tokens: p.tokens, rows: p.rows, scratch: scratch[part])
            }
        }
        return list.reduce(0) { $0 + $1.bytes }
    }

    /// Splits 0..<count into one contiguous range per thread and runs `body(range, scratch)` on
    /// each non-empty one, with that thread's scratch.
    public func parallelFor(_ count: Int, _ body: (Range<Int>, KernelScratch) -> Void) {
        let scratch = scratch
        pool.parallelFor(count) { part, range in body(range, scratch[part]) }
    }

    /// The products of one `run` call and, per NUMA node, its units of rows (product index,
    /// first row) and how many of them its threads have claimed.
    private struct Plan {
        final class Claimed: Sendable { let units = Atomic<Int>(0) }
        var products: [Product] = []
        var unitProduct: [[Int32]] = [], unitStart: [[Int32]] = [], claimed: [Claimed] = []

        /// Empties every list, keeping its capacity.
        mutating func reset(nodes: Int) {
            products.removeAll(keepingCapacity: true)
            if claimed.count != nodes {
                unitProduct = Array(repeating: [], count: nodes)
                unitStart = unitProduct
                claimed = (0..<nodes).map { _ in Claimed() }
            }
            for k in 0..<nodes {
                unitProduct[k].removeAll(keepingCapacity: true)
                unitStart[k].removeAll(keepingCapacity: true)
            }
        }
    }
}
