import ArgumentParser

@main
struct KimiServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kimi-serve",
        abstract: "Serve Kimi K2 Instruct (DeepSeek-V3 architecture, block-fp8) on CPUs.",
        subcommands: [InspectCommand.self, ForwardCommand.self, TokenizeCommand.self, DetokenizeCommand.self,
                      RenderCommand.self, ParseToolsCommand.self])
}
