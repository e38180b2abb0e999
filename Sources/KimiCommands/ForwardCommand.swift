import ArgumentParser
import Foundation
import KimiModel

/// `kimi-serve forward --model DIR --tokens 1,2,3 [--logits-out FILE]`: runs a prompt through
/// the model and prints each position's five best logits; optionally writes all of them.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Run token ids through the model and print each position's top-5 logits.",
        discussion:
            "Prints one JSON line per position: {\"pos\": i, \"top\": [[id, logit], ...]} (5 pairs, best first, lower id first on ties). With --logits-out, also writes every logit as raw little-endian float32, positions × vocab, row-major."
    )

    @Option(name: .long, help: "Checkpoint directory, or \"demo\" for the embedded demo checkpoint.")
    var model: String

    @Option(name: .long, help: "Comma-separated token ids, e.g. 1,2,3.")
    var tokens: String

    @Option(name: .long, help: "Write all logits here (float32 little-endian, positions × vocab).")
    var logitsOut: String?

    @Option(name: .long, help: "Tokens computed together in one prefill chunk.")
    var chunk: Int = 64

    func validate() throws {
        guard chunk >= 1 else { throw ValidationError("--chunk must be at least 1") }
    }

    func run() throws {
        try requireCPUFeatures()
        try reportingErrors {
            let ids = try tokens.split(separator: ",", omittingEmptySubsequences: false).map { part -> Int in
                guard let id = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--tokens: \"\(part)\" is not an integer token id")
                }
                return id
            }
            guard !ids.isEmpty else { throw ValidationError("--tokens is empty") }
            let transformer = try KimiTransformer(
                directory: try checkpointDirectory(model).path, maxBatchTokens: chunk, maxContext: ids.count)
            let vocab = transformer.config.vocabSize
            let logits = try transformer.logits(ids, cache: transformer.makeCache())
            var out = ""
            for pos in ids.indices {
                let row = logits[pos * vocab..<(pos + 1) * vocab]
                let top = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(5)
                out += "{\"pos\": \(pos), \"top\": [" + top.map { "[\($0 - pos * vocab), \(row[$0])]" }.joined(separator: ", ") + "]}\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
            if let logitsOut {
                let data = logits.withUnsafeBufferPointer { Data(buffer: $0) }
                guard FileManager.default.createFile(atPath: logitsOut, contents: data) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: logitsOut])
                }
            }
        }
    }
}
