import Foundation

/// DeepSeek-V3's noaux_tc routing, as transformers' DeepseekV3TopkRouter:
/// sigmoid scores; the correction bias added for choosing only; groups ranked by the sum of
/// their two best biased scores and all but the best `topkGroup` masked; the top k biased
/// scores chosen; their unbiased scores as weights, normalised if `normTopkProb`, times
/// `routedScalingFactor`. Ties go to the lower index.
public struct MoERouter: Sendable {
    public let experts: Int
    public let groups: Int
    public let topkGroup: Int
    public let k: Int
    public let normalize: Bool
    public let scalingFactor: Float

    public init(config c: ModelConfig) {
        experts = c.nRoutedExperts
        groups = c.nGroup
        topkGroup = c.topkGroup
        k = c.numExpertsPerTok
        normalize = c.normTopkProb
        scalingFactor = c.routedScalingFactor
    }

    /// Scratch floats `route` needs.
    public var scratchCount: Int { experts + groups }

    /// - logits: (experts) router logits, replaced by the sigmoid scores.
    /// - bias: (experts); scratch: (scratchCount).
    /// - chosen, weights: (k) outputs, in order of choice (descending biased score).
    public func route(
        _ logits: UnsafeMutablePointer<Float>, bias: UnsafePointer<Float>, scratch: UnsafeMutablePointer<Float>,
        chosen: UnsafeMutablePointer<Int32>, weights: UnsafeMutablePointer<Float>
    ) {
        let selection = scratch  // (experts) biased scores; -inf once masked or chosen
        let groupScore = scratch + experts  // (groups)
        for e in 0..<experts {
            logits[e] = 1 / (1 + expf(-logits[e]))
            selection[e] = logits[e] + bias[e]
        }
        let perGroup = experts / groups
        if groups > 1 && topkGroup < groups {
            for g in 0..<groups {
                var best = -Float.infinity, second = -Float.infinity
                for e in g * perGroup..<(g + 1) * perGroup {
                    let s = selection[e]
                    if s > best { second = best; best = s } else if s > second { second = s }
                }
                groupScore[g] = best + second
            }
            // Keep the best topkGroup groups: mark them by setting their score to +inf.
            for _ in 0..<topkGroup {
                var pick = 0
                while groupScore[pick] == .infinity { pick += 1 }
                for g in pick + 1..<groups where groupScore[g] != .infinity && groupScore[g] > groupScore[pick] { pick = g }
                groupScore[pick] = .infinity
            }
            for g in 0..<groups where groupScore[g] != .infinity {
                for e in g * perGroup..<(g + 1) * perGroup { selection[e] = -.infinity }
            }
        }
        var sum: Float = 0
        for i in 0..<k {
            var pick = -1
            for e in 0..<experts where selection[e] != -.infinity && (pick < 0 || selection[e] > selection[pick]) { pick = e }
            if pick < 0 {  // Only with NaN scores (a broken checkpoint): take the lowest unchosen expert.
                pick = (0..<experts).first { e in !(0..<i).contains { chosen[$0] == Int32(e) } }!
            }
            chosen[i] = Int32(pick)
            weights[i] = logits[pick]
            selection[pick] = -.infinity
            sum += weights[i]
        }
        for i in 0..<k {
            if normalize { weights[i] /= sum + 1e-20 }
            weights[i] *= scalingFactor
        }
    }
}
