/// The feed-forward half of a layer: the dense SwiGLU MLP of the first layers, and the MoE of
/// the rest (routed experts chosen by `MoERouter`, plus the always-on shared experts).
extension KimiTransformer {
    /// out = down(silu(gate(x)) ⊙ up(x)). x, out: (hidden).
    func mlp(_ m: ModelWeights.MLP, _ x: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let inter = m.gate.rows
        m.gate.gemv(ws.gate, x, scratch: ws.scratch)
        m.up.gemv(ws.up, x, scratch: ws.scratch)
        swiglu(ws.gate, ws.up, n: inter)
        m.down.gemv(out, ws.gate, scratch: ws.scratch)
    }

    /// ws.out[t] = Σ_k w_k · expert_k(ws.xn[t]) + shared(ws.xn[t]) for t < T. Experts run in
    /// ascending index order, each over the tokens routed to it, so every expert's weights are
    /// read once per chunk and each token sums its experts in a fixed order (as transformers).
    func moe(_ m: ModelWeights.MoE, tokens T: Int) {
        let d = config.hiddenSize, k = router.k
        m.correctionBias.withUnsafeBufferPointer { bias in
            for t in 0..<T {
                m.router.gemv(ws.routerScores, ws.xn + t * d, scratch: ws.scratch)
                router.route(ws.routerScores, bias: bias.baseAddress!, scratch: ws.routerScratch,
                             chosen: ws.routes + t * k, weights: ws.routeWeights + t * k)
            }
        }
        // Counting sort of the T·k routes by expert (stable: tokens stay in order).
        let experts = router.experts
        ws.expertStart.update(repeating: 0, count: experts + 1)
        for i in 0..<T * k { ws.expertStart[Int(ws.routes[i]) + 1] += 1 }
        for e in 0..<experts { ws.expertStart[e + 1] += ws.expertStart[e] }
        for i in 0..<T * k {
            let e = Int(ws.routes[i])
            ws.routeOrder[Int(ws.expertStart[e])] = Int32(i)
            ws.expertStart[e] += 1
        }
        // expertStart[e] now holds the end of e's run; its start is the previous expert's end.
        ws.out.update(repeating: 0, count: T * d)
        var begin = 0
        for e in 0..<experts {
            let end = Int(ws.expertStart[e])
            for j in begin..<end {
                let route = Int(ws.routeOrder[j]), t = route / k
                mlp(m.experts[e], ws.xn + t * d, into: ws.mlpOut)
                axpy(ws.out + t * d, ws.routeWeights[route], ws.mlpOut, n: d)
            }
            begin = end
        }
        if let shared = m.shared {
            for t in 0..<T {
                mlp(shared, ws.xn + t * d, into: ws.mlpOut)
                for i in 0..<d { ws.out[t * d + i] += ws.mlpOut[i] }
            }
        }
    }
}
