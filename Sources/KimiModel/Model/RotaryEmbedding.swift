import Foundation

/// RoPE frequencies with YaRN, computed as transformers'
/// `_compute_yarn_parameters` does, in float32 where it uses float32:
/// frequencies below the correction range keep base^(-2i/d), those above are divided by the
/// factor, a linear ramp blends between; cos and sin are multiplied by the attention factor,
/// and the softmax scale takes mscale_all_dim's correction squared.
public struct RotaryEmbedding: Sendable {
    /// (qkRopeHeadDim / 2)
    public let invFreq: [Float]
    /// Multiplies cos and sin: get_mscale(f, mscale) / get_mscale(f, mscale_all_dim) (1 for K2).
    public let attentionFactor: Float
    /// The attention logits' scale: qk_head_dim^-0.5 · get_mscale(f, mscale_all_dim)².
    public let softmaxScale: Float

    public init(config: ModelConfig) {
        let dim = config.qkRopeHeadDim
        let base = Float(config.ropeTheta)
        let posFreqs = (0..<dim / 2).map { powf(base, Float(2 * $0) / Float(dim)) }
        var scale = 1 / Double(config.qkHeadDim).squareRoot()
        guard let yarn = config.ropeScaling else {
            invFreq = posFreqs.map { 1 / $0 }
            attentionFactor = 1
            softmaxScale = Float(scale)
            return
        }
        func mscale(_ factor: Double, _ m: Double = 1) -> Double { factor <= 1 ? 1 : 0.1 * m * log(factor) + 1 }
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(Double(yarn.originalMaxPositionEmbeddings) / (rotations * 2 * Double.pi)) / (2 * log(config.ropeTheta))
        }
        var low = correctionDim(yarn.betaFast), high = correctionDim(yarn.betaSlow)
        if yarn.truncate {
            low = low.rounded(.down)
            high = high.rounded(.up)
        }
        low = max(low, 0)
        high = min(high, Double(dim - 1))
        if low == high { high += 0.001 }
        let factor = Float(yarn.factor)
        invFreq = posFreqs.enumerated().map { i, p in
            let ramp = min(max((Float(i) - Float(low)) / (Float(high) - Float(low)), 0), 1)
            let extrapolation = 1 - ramp
            return (1 / (factor * p)) * (1 - extrapolation) + (1 / p) * extrapolation
        }
        if let given = yarn.attentionFactor {
            attentionFactor = Float(given)
        } else if let m = yarn.mscale, let all = yarn.mscaleAllDim, m != 0, all != 0 {
            attentionFactor = Float(mscale(yarn.factor, m) / mscale(yarn.factor, all))
        } else {
            attentionFactor = Float(mscale(yarn.factor))
        }
        if let all = yarn.mscaleAllDim, all != 0 {
            let m = mscale(yarn.factor, all)
            scale *= m * m
        }
        softmaxScale = Float(scale)
    }

    /// cos and sin of every pair's angle at `position`, times the attention factor.
    /// cos, sin: (qkRopeHeadDim / 2).
    public func table(position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let p = Float(position)
        for i in invFreq.indices {
            let angle = Double(p * invFreq[i])
            cos[i] = Float(Foundation.cos(angle)) * attentionFactor
            sin[i] = Float(Foundation.sin(angle)) * attentionFactor
        }
    }
}
