import KimiKernels

/// The feed-forward half of a layer: the dense SwiGLU MLP of the first layers, and the MoE of
/// the rest (routed experts chosen by `MoERouter`, plus the always-on shared experts).
extension KimiTransformer {
    /// out (T, hidden) = down(silu(gate(x)) ⊙ up(x)) for x (T, hidden).
    func mlp(_ m: ModelWeights.MLP, _ x: UnsafePointer<Float>, tokens T: Int, into out: UnsafeMutablePointer<Float>) {
        let inter = m.gate.rows
        products {
            $0.append(Product(m.gate, x, tokens: T, into: ws.gate))
            $0.append(Product(m.up, x, tokens: T, into: ws.up))
        }
        for t in 0..<T { swiglu(ws.gate + t * inter, ws.up + t * inter, n: inter) }
        product(m.down, ws.gate, tokens: T, into: out)
    }

    /// ws.out[t] = Σ_k w_k · expert_k(ws.xn[t]) + shared(ws.xn[t]) for t < T. The tokens are
    /// grouped by expert, so every chosen expert's weights are read once per step; all gate and
    /// up projections (routed and shared) run in one parallel region, all down projections in
    /// another. Each token sums its experts in ascending expert order (whatever else is in the
    /// batch), then adds the shared experts.
    func moe(_ m: ModelWeights.MoE, tokens T: Int) {
        let d = config.hiddenSize, k = router.k, experts = router.experts
        // Route: each token's k experts and their weights, ws.routes and ws.routeWeights (T, k).
        product(m.router, ws.xn, tokens: T, into: ws.routerScores)
        m.correctionBias.withUnsafeBufferPointer { bias in
            for t in 0..<T {
                router.route(
                    ws.routerScores + t * experts, bias: bias.baseAddress!, scratch: ws.routerScratch,
                    chosen: ws.routes + t * k, weights: ws.routeWeights + t * k)
            }
        }
        // Gather: the routes grouped by expert, and expertIn (T·k, hidden) each route's token
        // input in that order.
        groupRoutesByExpert(T * k)
        for j in 0..<T * k {
            (ws.expertIn + j * d).update(from: ws.xn + (Int(ws.routeOrder[j]) / k) * d, count: d)
        }
        // Experts: each chosen expert's SwiGLU over its run of routes (its rows of expertIn,
        // routedGate / routedUp and expertOut), beside the shared experts over every token.
        let inter = config.moeIntermediateSize
        func run(_ e: Int) -> (begin: Int, count: Int) {
            (Int(ws.expertStart[e]), Int(ws.expertStart[e + 1] - ws.expertStart[e]))
        }
        let placement = scheduler.placement
        products { products in
            for e in 0..<experts {
                let (begin, n) = run(e)
                guard n > 0 else { continue }
                lastPass.routedExperts += 1
                let x = ws.expertIn + begin * d, node = placement.expertNode(e)
                products.append(Product(m.experts[e].gate, x, tokens: n, into: ws.routedGate + begin * inter, node: node))
                products.append(Product(m.experts[e].up, x, tokens: n, into: ws.routedUp + begin * inter, node: node))
            }
            if let shared = m.shared {
                products.append(Product(shared.gate, ws.xn, tokens: T, into: ws.gate))
                products.append(Product(shared.up, ws.xn, tokens: T, into: ws.up))
            }
        }
        for j in 0..<T * k { swiglu(ws.routedGate + j * inter, ws.routedUp + j * inter, n: inter) }
        if let shared = m.shared {
            let width = shared.gate.rows
            for t in 0..<T { swiglu(ws.gate + t * width, ws.up + t * width, n: width) }
        }
        products { products in
            for e in 0..<experts {
                let (begin, n) = run(e)
                guard n > 0 else { continue }
                products.append(
                    Product(
                        m.experts[e].down, ws.routedGate + begin * inter, tokens: n, into: ws.expertOut + begin * d,
                        node: placement.expertNode(e)))
            }
            if let shared = m.shared {
                products.append(Product(shared.down, ws.gate, tokens: T, into: ws.sharedOut))
            }
        }
        // Combine: ws.out (T, hidden), each token's weighted expert outputs, then the shared ones.
        ws.out.update(repeating: 0, count: T * d)
        for j in 0..<T * k {
            let route = Int(ws.routeOrder[j])
            axpy(ws.out + (route / k) * d, ws.routeWeights[route], ws.expertOut + j * d, n: d)
        }
        if m.shared != nil {
            for i in 0..<T * d { ws.out[i] += ws.sharedOut[i] }
        }
    }

    /// A stable counting sort of the `routes` routes in ws.routes by expert: ws.routeOrder lists
    /// them by expert, tokens in order within an expert, and expert e's run is
    /// ws.expertStart[e] ..< ws.expertStart[e + 1].
    private func groupRoutesByExpert(_ routes: Int) {
        let experts = router.experts
        ws.expertStart.update(repeating: 0, count: experts + 1)
        for i in 0..<routes { ws.expertStart[Int(ws.routes[i]) + 1] += 1 }
        for e in 0..<experts { ws.expertStart[e + 1] += ws.expertStart[e] }
        ws.expertFill.update(from: ws.expertStart, count: experts)
        for i in 0..<routes {
            let e = Int(ws.routes[i])
            ws.routeOrder[Int(ws.expertFill[e])] = Int32(i)
            ws.expertFill[e] += 1
        }
    }
}
