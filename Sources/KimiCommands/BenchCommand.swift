import ArgumentParser
import Foundation
import KimiJSON
import KimiKernels
import KimiModel
import KimiServing

/// `kimi-serve bench`: prefill and decode speed against the machine's own read bandwidth,
/// measured in the same run with the same threads.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed against the measured memory bandwidth.",
        discussion: """
            Measures, in one run: the sustained read bandwidth (a STREAM-like read of as many bytes as a decode step \
            streams, with the same threads, timed right before and right after each decode run), prefill tokens/s of \
            a random prompt, decode tokens/s, the weight and KV bytes one decode step reads (from the architecture and \
            the experts actually chosen), the achieved GB/s and its percentage of the bandwidth (each run against the \
            mean of the reads around it; the medians over the runs are reported), time to first token and peak RSS. \
            With --json, standard output holds one JSON object; progress goes to standard error.
            """)

    @Option(name: .long, help: "Checkpoint directory, or \"demo\".")
    var model: String?

    @Option(name: .long, help: "Prompt tokens for the prefill measurement.")
    var promptTokens = 512

    @Option(name: .long, help: "Tokens decoded per run.")
    var genTokens = 64

    @Option(name: .long, help: "Compute threads (default: all cores).")
    var threads = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: "Decode runs; each is compared with the bandwidth read just before and just after it.")
    var runs = 3

    @Option(name: .long, help: "Prompt tokens computed together per prefill step.")
    var prefillChunk = 512

    @Option(name: .long, help: "NUMA placement: off, interleave or distribute (as serve).")
    var numa: NUMAPolicy = .off

    @Flag(name: .long, help: "Print one JSON object.")
    var json = false

    @Flag(
        name: .long,
        help: "One thread: decode from memory with the model, and the decode kernel's GB/s with its weights in L2 (fp8, bf16).")
    var perCore = false

    @Flag(name: .long, help: "Measure only the read bandwidth, every pattern, --runs times (no model).")
    var probeOnly = false

    @Option(name: .long, help: "Bytes the bandwidth probe reads with --probe-only.")
    var probeBytes = 1 << 30

    func validate() throws {
        guard promptTokens >= 1, genTokens >= 1, threads >= 1, runs >= 1, prefillChunk >= 1 else {
            throw ValidationError("--prompt-tokens, --gen-tokens, --threads, --runs and --prefill-chunk must be positive")
        }
        guard probeOnly || model != nil else { throw ValidationError("give --model, or --probe-only") }
        guard probeBytes >= 1 << 20 else { throw ValidationError("--probe-bytes must be at least 1048576") }
    }

    func run() throws {
        try requireCPUFeatures()
        if probeOnly { return probe() }
        let model = model!, threads = perCore ? 1 : threads
        try reportingErrors {
            let loadStart = DispatchTime.now().uptimeNanoseconds
            let checkpoint = try Checkpoint(directory: try checkpointDirectory(model).path)
            let c = checkpoint.config
            let context = promptTokens + genTokens * runs + 1
            let transformer = try KimiTransformer(
                checkpoint: checkpoint, maxBatchTokens: min(prefillChunk, promptTokens),
                maxContext: context, threads: threads, numa: numa)
            transformer.placeWeights()
            let loadSeconds = seconds(since: loadStart)
            printError("loaded in \(String(format: "%.2f", loadSeconds)) s; warming the page cache…")
            let summary = ModelSummary(checkpoint: checkpoint)
            checkpoint.touchAllPages()

            var rng = SplitMix64(seed: 42)
            let prompt = (0..<promptTokens).map { _ in Int(rng.next() % UInt64(c.vocabSize)) }
            var logits = [Float](repeating: 0, count: c.vocabSize)
            let cache = transformer.makeCache(capacity: context, dtype: .bf16)

            printError("prefill of \(promptTokens) tokens…")
            let prefillStart = DispatchTime.now().uptimeNanoseconds
            try transformer.forward(prompt, cache: cache, logits: &logits)
            let prefillSeconds = seconds(since: prefillStart)

            let bandwidth = ReadBandwidth(bytes: max(summary.decodeBytesPerToken, 256 << 20), pool: transformer.pool)
            // Each decode run is compared with the read bandwidth measured just before and just
            // after it: a shared host's bandwidth can change by half within seconds, and medians of
            // rates and bandwidths taken apart could pair a run with another moment's bandwidth.
            var reads = [bandwidth.measure()], decodeRates: [Double] = [], stepBytes: [Double] = []
            let ttft = prefillSeconds
            for run in 0..<runs {
                printError("decode run \(run + 1) of \(runs) (\(genTokens) tokens)…")
                var token = argmax(logits)  // the first token: the prefill's logits, no extra step
                let contextBefore = cache.count
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<genTokens {
                    try transformer.forward([token], cache: cache, logits: &logits)
                    token = argmax(logits)
                }
                decodeRates.append(Double(genTokens) / seconds(since: start))
                reads.append(bandwidth.measure())
                // A single-token step reads every non-routed matrix, one embedding row and the k
                // chosen experts of each MoE layer, plus the whole latent cache of its context.
                let meanContext = Double(contextBefore) + Double(genTokens + 1) / 2
                stepBytes.append(Double(summary.decodeBytesPerToken) + meanContext * Double(summary.kvBytesPerTokenBF16))
            }
            let bandwidths = (0..<runs).map { (reads[$0].bytesPerSecond + reads[$0 + 1].bytesPerSecond) / 2 }
            let patterns = Self.patterns(reads)
            let achieved = (0..<runs).map { stepBytes[$0] * decodeRates[$0] }
            let bw = Self.median(bandwidths), decode = Self.median(decodeRates), bytes = Self.median(stepBytes)
            let gbPerSecond = Self.median(achieved) / 1e9, percent = Self.median((0..<runs).map { 100 * achieved[$0] / bandwidths[$0] })
            // With --per-core: what the decode kernel streams from L2 on this thread, per dtype.
            let kernel = perCore ? KernelThroughput.DType.allCases.map { ($0, KernelThroughput.fromL2($0)) } : []
            var usage = rusage()
            getrusage(RUSAGE_SELF.rawValue, &usage)
            var result = JSONObject([
                "model": .string(model), "threads": JSONValue(threads),
                "prompt_tokens": JSONValue(promptTokens), "gen_tokens": JSONValue(genTokens), "runs": JSONValue(runs),
                "load_seconds": JSONValue(loadSeconds),
                "prefill_tokens_per_s": JSONValue(Double(promptTokens) / prefillSeconds),
                "ttft_ms": JSONValue(ttft * 1000),
                "decode_tokens_per_s": JSONValue(decode),
                "decode_bytes_per_token": JSONValue(Int(bytes)),
                "decode_gb_per_s": JSONValue(gbPerSecond),
                "bandwidth_gb_per_s": JSONValue(bw / 1e9),
                "bandwidth_pattern": .string(patterns.winner.description),
                "bandwidth_by_pattern_gb_per_s": .object(patterns.json),
                "decode_pct_of_bandwidth": JSONValue(percent),
                "peak_rss_bytes": JSONValue(usage.ru_maxrss * 1024),
                "weight_bytes": JSONValue(summary.weightBytes),
            ])
            if perCore {
                var rates = JSONObject()
                for (dtype, rate) in kernel { rates[dtype.rawValue] = JSONValue(rate / 1e9) }
                result["kernel_l2_gb_per_s"] = .object(rates)
            }
            if json {
                print(JSONWriter(compact: false).string(.object(result)))
            } else {
                print(
                    """
                    model        \(model) (\(formatCount(summary.totalParameters)) parameters, \(formatCount(summary.activeParameters)) active), \(threads) thread\(threads == 1 ? "" : "s")
                    load         \(String(format: "%.2f", loadSeconds)) s (mmap)
                    prefill      \(promptTokens) tokens: \(String(format: "%.1f", Double(promptTokens) / prefillSeconds)) tokens/s, time to first token \(String(format: "%.0f", ttft * 1000)) ms
                    decode       \(String(format: "%.2f", decode)) tokens/s (median of \(runs) runs of \(genTokens))
                    bytes        \(formatBytes(Int(bytes))) read per decoded token (weights of the chosen experts + KV)
                    bandwidth    \(String(format: "%.1f", bw / 1e9)) GB/s measured read (best of \(ReadPattern.all.count) patterns; most often \(patterns.winner)); decode achieves \(String(format: "%.1f", gbPerSecond)) GB/s = \(String(format: "%.0f", percent)) % (median of the runs, each against the reads around it)
                    peak RSS     \(formatBytes(usage.ru_maxrss * 1024))
                    """)
                if perCore {
                    let rates = kernel.map { "\(String(format: "%.1f", $0.1 / 1e9)) GB/s \($0.0.rawValue)" }.joined(separator: ", ")
                    print(
                        "per core     the decode kernel reads \(rates) from L2: decode stays memory-bound while a core's share of the memory bandwidth is below that"
                    )
                }
            }
        }
    }

    /// `--probe-only`: the read bandwidth of `threads` threads over `probeBytes`, `runs` times.
    func probe() {
        let bandwidth = ReadBandwidth(bytes: probeBytes, pool: ThreadPool(threads: threads))
        _ = bandwidth.measure()  // the first pass also faults the pages in
        let reads = (0..<runs).map { _ in bandwidth.measure() }
        let best = Self.median(reads.map(\.bytesPerSecond)), patterns = Self.patterns(reads)
        if json {
            let result = JSONObject([
                "threads": JSONValue(threads), "bytes": JSONValue(bandwidth.bytes), "runs": JSONValue(runs),
                "bandwidth_gb_per_s": JSONValue(best / 1e9), "bandwidth_pattern": .string(patterns.winner.description),
                "bandwidth_by_pattern_gb_per_s": .object(patterns.json),
            ])
            print(JSONWriter(compact: false).string(.object(result)))
        } else {
            print(
                "bandwidth    \(String(format: "%.1f", best / 1e9)) GB/s (median of \(runs) reads of \(formatBytes(bandwidth.bytes)), \(threads) thread\(threads == 1 ? "" : "s"); most often \(patterns.winner))"
            )
            for (pattern, rate) in zip(ReadPattern.all, patterns.medians) {
                print(
                    "  \(pattern.description.padding(toLength: 36, withPad: " ", startingAt: 0)) \(String(format: "%.1f", rate / 1e9)) GB/s"
                )
            }
        }
    }

    /// The pattern that was fastest most often (the first of equals), and each pattern's median
    /// bytes per second over `reads`, also as JSON in GB/s.
    static func patterns(_ reads: [BandwidthReading]) -> (winner: ReadPattern, medians: [Double], json: JSONObject) {
        let wins = ReadPattern.all.indices.map { i in reads.filter { $0.best == i }.count }
        let winner = ReadPattern.all[wins.indices.max { wins[$0] < wins[$1] || (wins[$0] == wins[$1] && $0 > $1) }!]
        let medians = ReadPattern.all.indices.map { i in median(reads.map { $0.byPattern[i] }) }
        var json = JSONObject()
        for (pattern, rate) in zip(ReadPattern.all, medians) { json[pattern.description] = JSONValue(rate / 1e9) }
        return (winner, medians, json)
    }

    func seconds(since start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    func argmax(_ logits: [Float]) -> Int { logits.withUnsafeBufferPointer { Sampler.argmax($0.baseAddress!, n: $0.count) } }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }
}
