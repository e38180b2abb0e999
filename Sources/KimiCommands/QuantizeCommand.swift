import ArgumentParser
import Foundation
import KimiModel

/// `kimi-serve quantize --model DIR --out DIR [--group-size 32] [--layers experts|all-linear]
/// [--dry-run]`: writes an int4 compressed-tensors checkpoint (CheckpointQuantizer) with a
/// progress bar on standard error.
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Write a compressed-tensors int4 checkpoint (routed experts by default) from a block-fp8 or bf16 one.",
        discussion:
            "Each chosen linear layer becomes compressed-tensors pack-quantized int4 with one bf16 scale per --group-size columns (symmetric, as compressed-tensors quantises); the other tensors are copied, kept block-fp8 layers described as compressed-tensors float-quantized blocks. The output loads in kimi-serve and in transformers with compressed-tensors. Tensors are written one at a time, so memory stays near one tensor's size whatever the checkpoint's. --dry-run prints the plan without writing."
    )

    @Option(name: .long, help: "Checkpoint to quantise (block-fp8 or unquantised).")
    var model: String

    @Option(name: .long, help: "Output directory (created; must not hold a checkpoint).")
    var out: String

    @Option(name: .long, help: "Columns per int4 scale (a multiple of 16; Kimi-K2-Thinking uses 32).")
    var groupSize = 32

    @Option(name: .long, help: "Which linear layers to quantise: experts (the routed experts) or all-linear.")
    var layers: CheckpointQuantizer.Layers = .experts

    @Flag(name: .long, help: "Print the plan (output shards, sizes, memory bound) and write nothing.")
    var dryRun = false

    func run() throws {
        try requireCPUFeatures()
        try reportingErrors {
            let checkpoint = try Checkpoint(directory: try checkpointDirectory(model).path)
            let quantizer = try CheckpointQuantizer(checkpoint: checkpoint, groupSize: groupSize, layers: layers)
            let total = quantizer.outputBytes, input = checkpoint.mappedBytes
            print(
                "plan        \(quantizer.shards.count) shard\(quantizer.shards.count == 1 ? "" : "s"), \(formatBytes(input)) in, \(formatBytes(total)) out (int4 \(layers.rawValue), group \(groupSize)); memory bound \(formatBytes(quantizer.memoryBound))"
            )
            if dryRun {
                for shard in quantizer.shards { print("  \(shard.file)  \(shard.tensors.count) tensors, \(formatBytes(shard.byteCount))") }
                return
            }
            let start = Date()
            var shown = -1
            try quantizer.write(to: out) { done in
                let percent = total == 0 ? 100 : done * 100 / total
                guard percent != shown else { return }
                shown = percent
                let elapsed = Date().timeIntervalSince(start)
                let eta = done == 0 ? 0 : elapsed * Double(total - done) / Double(done)
                let bar = String(repeating: "=", count: percent / 4) + String(repeating: " ", count: 25 - percent / 4)
                FileHandle.standardError.write(
                    Data(
                        String(
                            format: "\r[%@] %3d%%  %@ of %@  %.0f s, %.0f s left ", bar, percent, formatBytes(done), formatBytes(total),
                            elapsed, eta
                        ).utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
            print("wrote       \(out) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        }
    }
}

extension CheckpointQuantizer.Layers: ExpressibleByArgument {}
