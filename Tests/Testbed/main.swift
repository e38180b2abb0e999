import ArgumentParser
import Foundation
import KimiCommands
import KimiJSON
import KimiModel
import KimiServing
import KimiTokenizer
import ServingTestSupport

/// `kimi-serve-testbed serve [--scripted-output FILE] [--step-delay SECONDS] [--load-delay SECONDS] <serve options>`:
/// `kimi-serve serve` with a test double in place of the weights, for the black-box tests.
/// --scripted-output: a JSON array of model outputs (text with Kimi's markers), answered in turn
/// to successive requests, each ended by <|im_end|>; an empty string: random logits
/// (ScriptedModel). Prefix caching is off, as ScriptedModel needs one cache per generation.
/// --step-delay: every engine pass sleeps that long first (SlowModel).
/// --load-delay: making the model takes that much longer (a slow load, for /health's "loading").
struct Testbed {
    var scripts: String?
    var stepDelay: Double = 0
    var loadDelay: Double = 0
    var serveArguments: [String] = []

    init(_ arguments: [String]) throws {
        guard arguments.first == "serve" else {
            throw ValidationError("usage: kimi-serve-testbed serve [--scripted-output FILE] [--step-delay S] [--load-delay S] ...")
        }
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--scripted-output": scripts = rest.popFirst()
            case "--step-delay":
                guard let seconds = rest.popFirst().flatMap(Double.init), seconds >= 0, seconds.isFinite else {
                    throw ValidationError("--step-delay needs a number of seconds, 0 or more")
                }
                stepDelay = seconds
            case "--load-delay":
                guard let seconds = rest.popFirst().flatMap(Double.init), seconds >= 0, seconds.isFinite else {
                    throw ValidationError("--load-delay needs a number of seconds, 0 or more")
                }
                loadDelay = seconds
            default: serveArguments.append(argument)
            }
        }
        if scripts != nil { serveArguments.append("--no-prefix-caching") }
    }

    func model(_ transformer: KimiTransformer, _ tokenizer: Tokenizer, _ kvDType: KVCache.DType) throws -> any InferenceModel {
        Thread.sleep(forTimeInterval: loadDelay)
        var model: any InferenceModel = TransformerModel(transformer: transformer, kvDType: kvDType)
        if let scripts {
            guard let data = FileManager.default.contents(atPath: scripts), let list = try JSONParser.parse([UInt8](data)).array,
                !list.isEmpty, list.allSatisfy({ $0.string != nil })
            else {
                throw ValidationError("--scripted-output must name a JSON array of strings")
            }
            let end = tokenizer.specialId("<|im_end|>")!
            model = ScriptedModel(
                scripts: list.map { $0.string!.isEmpty ? [] : tokenizer.encode($0.string!) + [end] },
                vocabSize: tokenizer.vocabSize, maxContext: transformer.maxContext,
                maxBatchTokens: transformer.maxBatchTokens)
        }
        return stepDelay > 0 ? slowed(model, delay: stepDelay) : model
    }
}

func slowed(_ model: some InferenceModel, delay: Double) -> any InferenceModel { SlowModel(model, delay: delay) }

do {
    let testbed = try Testbed(Array(CommandLine.arguments.dropFirst()))
    let serve = try ServeCommand.parse(testbed.serveArguments)
    try serve.run(model: testbed.model)
} catch {
    ServeCommand.exit(withError: error)
}
