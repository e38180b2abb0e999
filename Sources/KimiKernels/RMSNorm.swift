/// out = w ⊙ (x / sqrt(mean(x²) + eps)) (transformers' DeepseekV3RMSNorm in float32).
/// out, x, w: (n); out may alias x.
public func rmsNorm(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, n: Int, eps: Float) {
    var sum: Float = 0
    for i in 0..<n { sum = sum.addingProduct(x[i], x[i]) }
    let r = 1 / (sum / Float(n) + eps).squareRoot()
    for i in 0..<n { out[i] = w[i] * (x[i] * r) }
}
