import Foundation
import KimiModel
import KimiServing

/// A model that sleeps `delay` seconds in every pass before running `base`'s: generations last
/// long enough, even on a tiny model, to queue behind each other, be cancelled, or be drained.
public final class SlowModel<Base: InferenceModel>: InferenceModel {
    let base: Base
    let delay: Double

    public init(_ base: Base, delay: Double) {
        self.base = base
        self.delay = delay
    }

    public var vocabSize: Int { base.vocabSize }
    public var maxContext: Int { base.maxContext }
    public var maxBatchTokens: Int { base.maxBatchTokens }
    public var kvBytesPerToken: Int { base.kvBytesPerToken }
    public var lastPass: PassStatistics { base.lastPass }
    public func makeCache() -> Base.Cache { base.makeCache() }
    public func onProgress(_ handler: @escaping () -> Void) { base.onProgress(handler) }

    public func forward(_ batch: [BatchSegment<Base.Cache>], logits: UnsafeMutablePointer<Float>) throws {
        Thread.sleep(forTimeInterval: delay)
        try base.forward(batch, logits: logits)
    }
}
