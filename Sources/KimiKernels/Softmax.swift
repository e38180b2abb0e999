import Foundation

/// x = softmax(x) in place, max-subtracted, in float32. x: (n), n ≥ 1.
public func softmax(_ x: UnsafeMutablePointer<Float>, n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, x[i]) }
    var sum: Float = 0
    for i in 0..<n {
        x[i] = expf(x[i] - m)
        sum += x[i]
    }
    let inv = 1 / sum
    for i in 0..<n { x[i] *= inv }
}
