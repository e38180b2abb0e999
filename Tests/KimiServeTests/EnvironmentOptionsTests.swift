import ArgumentParser
import Foundation
import KimiCommands
import Testing

/// Every `serve` option has its KIMI_* variable, and each variable reaches the option.
@Suite struct EnvironmentOptionsTests {
    @Test("every serve option (and only those) can be set by a KIMI_* variable")
    func coverage() {
        let help = ServeCommand.helpMessage(columns: 1000)
        let regex = try! NSRegularExpression(pattern: "--([a-z][a-z-]*)")
        let options = Set(
            regex.matches(in: help, range: NSRange(help.startIndex..., in: help)).map {
                String(help[Range($0.range(at: 1), in: help)!])
            }
        ).subtracting(["help"]).filter { !$0.hasPrefix("no-") }
        let mapped = Set(EnvironmentOptions.serve.map(\.option))
        #expect(options == mapped)
    }

    @Test("each variable sets its option; a flag on the command line wins")
    func values() throws {
        let env = [
            "KIMI_MODEL": "/models/k2", "KIMI_HOST": "::", "KIMI_PORT": "9001", "KIMI_SERVED_MODEL_NAME": "a,b",
            "KIMI_API_KEY": "k1,k2", "KIMI_MAX_MODEL_LEN": "4096", "KIMI_KV_CACHE_DTYPE": "f32", "KIMI_KV_CACHE_GIB": "2.5",
            "KIMI_MAX_QUEUED": "7", "KIMI_PREFILL_CHUNK": "32", "KIMI_MAX_RUNNING": "5", "KIMI_PREFIX_CACHING": "0",
            "KIMI_THREADS": "3", "KIMI_SHUTDOWN_TIMEOUT": "12", "KIMI_PRELOAD": "true", "KIMI_NUMA": "interleave",
            "KIMI_LOG_LEVEL": "debug", "KIMI_LOG_FORMAT": "json", "KIMI_LOG_PROMPTS": "1",
        ]
        let s = try ServeCommand.parse(EnvironmentOptions.apply([], options: EnvironmentOptions.serve, environment: env))
        #expect(s.model == "/models/k2" && s.host == "::" && s.port == 9001 && s.servedModelName == ["a,b"] && s.apiKey == ["k1,k2"])
        #expect(s.maxModelLen == 4096 && s.kvCacheDtype == .f32 && s.kvCacheGib == 2.5 && s.maxQueued == 7 && s.prefillChunk == 32)
        #expect(s.maxRunning == 5 && !s.prefixCaching && s.threads == 3 && s.shutdownTimeout == 12 && s.preload && s.numa == .interleave)
        #expect(s.logLevel == .debug && s.logFormat == .json && s.logPrompts)
        let flags = try ServeCommand.parse(
            EnvironmentOptions.apply(
                ["--port", "9002", "--prefix-caching", "--no-preload"],
                options: EnvironmentOptions.serve, environment: env))
        #expect(flags.port == 9002 && flags.prefixCaching && !flags.preload && flags.maxRunning == 5)
        let file = try ServeCommand.parse(
            EnvironmentOptions.apply(
                [], options: EnvironmentOptions.serve,
                environment: ["KIMI_API_KEY_FILE": "/etc/keys"]))
        #expect(file.apiKeyFile == "/etc/keys")
    }
}
