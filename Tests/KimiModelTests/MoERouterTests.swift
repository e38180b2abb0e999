import Foundation
import KimiModel
import TestSupport
import Testing

/// The router against a sort-based reference written from transformers' DeepseekV3TopkRouter.
@Suite struct MoERouterTests {
    static func reference(
        logits: [Float], bias: [Float], groups: Int, topkGroup: Int, k: Int,
        normalize: Bool, scaling: Float
    ) -> [(Int, Float)] {
        let n = logits.count, per = n / groups
        let scores = logits.map { 1 / (1 + expf(-$0)) }
        var selection = zip(scores, bias).map { $0 + $1 }
        if groups > 1 {
            let groupScores = (0..<groups).map { g -> Float in
                let top = selection[g * per..<(g + 1) * per].sorted(by: >)
                return top[0] + top[1]
            }
            let kept = Set(
                (0..<groups).sorted { groupScores[$0] > groupScores[$1] || (groupScores[$0] == groupScores[$1] && $0 < $1) }.prefix(
                    topkGroup))
            for e in 0..<n where !kept.contains(e / per) { selection[e] = -.infinity }
        }
        let chosen = (0..<n).sorted { selection[$0] > selection[$1] || (selection[$0] == selection[$1] && $0 < $1) }.prefix(k)
        var weights = chosen.map { scores[$0] }
        let sum = weights.reduce(0, +)
        if normalize { weights = weights.map { $0 / (sum + 1e-20) } }
        return zip(chosen, weights.map { $0 * scaling }).map { ($0, $1) }
    }

    @Test(
        "routing matches the reference for grouped and ungrouped configs",
        arguments: [(8, 1, 1, 3, true), (16, 4, 2, 4, true), (384, 1, 1, 8, true), (256, 8, 4, 8, true), (6, 2, 1, 2, false)])
    func routing(_ experts: Int, _ groups: Int, _ topkGroup: Int, _ k: Int, _ normalize: Bool) throws {
        var config = try ModelConfig(json: String(contentsOfFile: Fixtures.checkpoint("kimi-mini") + "/config.json", encoding: .utf8))
        config.nRoutedExperts = experts
        config.nGroup = groups
        config.topkGroup = topkGroup
        config.numExpertsPerTok = k
        config.normTopkProb = normalize
        let router = MoERouter(config: config)
        var rng = SplitMix(seed: UInt64(experts))
        for _ in 0..<50 {
            let logits = (0..<experts).map { _ in Float(rng.unit() * 8 - 4) }
            let bias = (0..<experts).map { _ in Float(rng.unit() * 0.4 - 0.2) }
            var scores = logits
            var scratch = [Float](repeating: 0, count: router.scratchCount)
            var chosen = [Int32](repeating: -1, count: k)
            var weights = [Float](repeating: 0, count: k)
            router.route(&scores, bias: bias, scratch: &scratch, chosen: &chosen, weights: &weights)
            let expected = Self.reference(
                logits: logits, bias: bias, groups: groups, topkGroup: topkGroup, k: k,
                normalize: normalize, scaling: config.routedScalingFactor)
            #expect(chosen.map(Int.init) == expected.map(\.0))
            for (w, e) in zip(weights, expected) { #expect(abs(w - e.1) <= 1e-6 * abs(e.1)) }
        }
    }
}
