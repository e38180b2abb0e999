import ArgumentParser
import Foundation
import KimiDemo
import KimiKernels
import KimiModel

/// The checkpoint directory `--model` names: `demo` (or no --model, for serve) is the demo
/// checkpoint linked into the binary.
func checkpointDirectory(_ model: String?) throws -> (path: String, isDemo: Bool) {
    guard let model, model != DemoCheckpoint.name else { return (try DemoCheckpoint.directory(), true) }
    return (model, false)
}

/// Writes to standard error (progress, messages); standard output carries only results.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Runs a command body; a thrown error is printed as `error: <its description>` with exit 1.
func reportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ExitCode {
        throw error
    } catch {
        printError("error: \(error)")
        throw ExitCode(1)
    }
}

/// Fails with a clear message on a CPU without the instructions the kernels are built for.
func requireCPUFeatures() throws {
    let missing = CPUFeatures.missing()
    guard missing.isEmpty else {
        printError("error: this CPU lacks \(missing.joined(separator: ", ")); kimi-serve's kernels need AVX2, FMA and F16C (x86-64-v3)")
        throw ExitCode(1)
    }
}

/// 1234567 -> "1.23 M"; parameters and counts.
func formatCount(_ n: Int) -> String {
    let units: [(Double, String)] = [(1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")]
    for (scale, unit) in units where Double(n) >= scale {
        return String(format: "%.2f %@", Double(n) / scale, unit)
    }
    return "\(n)"
}

/// 1234567 -> "1.18 MiB".
func formatBytes(_ n: Int) -> String {
    let units: [(Double, String)] = [(0x1p40, "TiB"), (0x1p30, "GiB"), (0x1p20, "MiB"), (0x1p10, "KiB")]
    for (scale, unit) in units where Double(n) >= scale {
        return String(format: "%.2f %@", Double(n) / scale, unit)
    }
    return "\(n) B"
}
