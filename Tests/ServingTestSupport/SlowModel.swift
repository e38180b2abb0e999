import Foundation
import KimiModel
import KimiServing

/// A model that sleeps `delay` seconds in every pass before running `base`'s: generations last
/// long enough, even on a tiny model, to queue behind each other, be cancelled, or be drained.
public final class SlowModel: InferenceModel {
    let base: InferenceModel
    let delay: Double

    public init(_ base: InferenceModel, delay: Double) {
        self.base = base
        self.delay = delay
    }

    public var vocabSize: Int { base.vocabSize }
    public var maxContext: Int { base.maxContext }
    public var maxBatchTokens: Int { base.maxBatchTokens }
    public var kvBytesPerToken: Int { base.kvBytesPerToken }
    public var lastPass: PassStatistics { base.lastPass }
    public func makeCache() -> SequenceCache { base.makeCache() }
    public func onProgress(_ handler: @escaping () -> Void) { base.onProgress(handler) }

    public func forward(_ batch: [(tokens: [Int], cache: SequenceCache, wantsLogits: Bool)], logits: UnsafeMutablePointer<Float>) throws {
        Thread.sleep(forTimeInterval: delay)
        try base.forward(batch, logits: logits)
    }
}
