/// The feed-forward half of a layer: the dense SwiGLU MLP of the first layers, and the MoE of
/// the rest (routed experts chosen by `MoERouter`, plus the always-on shared experts).
extension KimiTransformer {
    /// out (T, hidden) = down(silu(gate(x)) ⊙ up(x)) for x (T, hidden).
    func mlp(_ m: ModelWeights.MLP, _ x: UnsafePointer<Float>, tokens T: Int, into out: UnsafeMutablePointer<Float>) {
        let inter = m.gate.rows
        linear(m.gate, x, tokens: T, into: ws.gate)
        linear(m.up, x, tokens: T, into: ws.up)
        for t in 0..<T { swiglu(ws.gate + t * inter, ws.up + t * inter, n: inter) }
        linear(m.down, ws.gate, tokens: T, into: out)
    }

    /// ws.out[t] = Σ_k w_k · expert_k(ws.xn[t]) + shared(ws.xn[t]) for t < T. Experts run in
    /// ascending index order, each once over all the tokens routed to it, so every expert's
    /// weights are read once per step and each token sums its experts in a fixed order (as
    /// transformers does), whatever else is in the batch.
    func moe(_ m: ModelWeights.MoE, tokens T: Int) {
        let d = config.hiddenSize, k = router.k, experts = router.experts
        linear(m.router, ws.xn, tokens: T, into: ws.routerScores)
        m.correctionBias.withUnsafeBufferPointer { bias in
            for t in 0..<T {
                router.route(ws.routerScores + t * experts, bias: bias.baseAddress!, scratch: ws.routerScratch,
                             chosen: ws.routes + t * k, weights: ws.routeWeights + t * k)
            }
        }
        // Counting sort of the T·k routes by expert (stable: tokens stay in order).
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
            defer { begin = end }
            guard end > begin else { continue }
            for j in begin..<end {
                let t = Int(ws.routeOrder[j]) / k
                (ws.expertIn + (j - begin) * d).update(from: ws.xn + t * d, count: d)
            }
            mlp(m.experts[e], ws.expertIn, tokens: end - begin, into: ws.expertOut)
            for j in begin..<end {
                let route = Int(ws.routeOrder[j]), t = route / k
                axpy(ws.out + t * d, ws.routeWeights[route], ws.expertOut + (j - begin) * d, n: d)
            }
        }
        if let shared = m.shared {
            mlp(shared, ws.xn, tokens: T, into: ws.expertOut)
            for i in 0..<T * d { ws.out[i] += ws.expertOut[i] }
        }
    }
}
