/// How the next token is chosen (OpenAI's sampling fields, validated by the API layer).
public struct SamplingParameters: Sendable, Equatable {
    /// 0 picks the most likely token (the lowest id on ties).
    public var temperature: Float = 0.6
    /// Nucleus: keep the smallest set of most likely tokens whose probability reaches top_p.
    public var topP: Float = 1
    /// Keep only the k most likely tokens; 0 keeps all.
    public var topK: Int = 0
    /// Subtracted from the logit of every token already generated (OpenAI's definition).
    public var presencePenalty: Float = 0
    /// Subtracted from a token's logit once per time it was generated.
    public var frequencyPenalty: Float = 0
    /// vLLM's repetition penalty over the prompt's and the generated tokens: a positive logit is
    /// divided by it, a negative one multiplied; 1 is off.
    public var repetitionPenalty: Float = 1
    /// vLLM's min-p: after temperature, drop tokens less likely than min_p times the most
    /// likely one; 0 is off.
    public var minP: Float = 0
    /// Stop tokens may not end the output before this many tokens (vLLM's min_tokens).
    public var minTokens = 0
    /// Added to the logits of the given token ids.
    public var logitBias: [Int: Float] = [:]
    /// The generator's seed; the same seed and parameters give the same tokens.
    public var seed: UInt64 = 0

    public init() {}
}
