import ArgumentParser
import Foundation

/// The `kimi-serve` command line (Sources/kimi-serve runs it).
public struct KimiServe: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "kimi-serve",
        abstract: "Serve Kimi K2 Instruct (DeepSeek-V3 architecture, block-fp8) on CPUs.",
        subcommands: [
            ServeCommand.self, InspectCommand.self, ForwardCommand.self, BenchCommand.self, TokenizeCommand.self,
            DetokenizeCommand.self, RenderCommand.self, ParseToolsCommand.self, ConstrainCommand.self, QuantizeCommand.self,
        ])

    /// Parses the command line, with `serve`'s options also read from KIMI_* variables.
    public static func main() {
        var arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "serve" {
            do {
                arguments = ["serve"] + (try EnvironmentOptions.apply(Array(arguments.dropFirst()), options: EnvironmentOptions.serve))
            } catch {
                printError("error: \(error)")
                Foundation.exit(64)
            }
        }
        main(arguments)
    }
}
