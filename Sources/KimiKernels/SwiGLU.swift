import Foundation

/// gate = silu(gate) ⊙ up, the SwiGLU activation (silu(g) = g·sigmoid(g)). gate, up: (n).
public func swiglu(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, n: Int) {
    for i in 0..<n {
        let g = gate[i]
        gate[i] = g / (1 + expf(-g)) * up[i]
    }
}
