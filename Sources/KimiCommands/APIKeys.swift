import ArgumentParser
import Foundation
import Logging

extension ServeCommand {
    /// The keys clients must present: from `--api-key` (comma-separated, repeatable; warned
    /// about when given on the command line, where every local user can read it) or one per
    /// line of `--api-key-file`. Empty: no key required.
    func apiKeys(logger: Logger) throws -> [String] {
        if let apiKeyFile {
            guard let text = try? String(contentsOfFile: apiKeyFile, encoding: .utf8) else {
                throw ValidationError("cannot read --api-key-file \(apiKeyFile)")
            }
            let keys = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !keys.isEmpty else { throw ValidationError("--api-key-file \(apiKeyFile) holds no key") }
            return keys
        }
        let keys = apiKey.flatMap { $0.split(separator: ",").map(String.init) }
        if !keys.isEmpty && ProcessInfo.processInfo.arguments.contains(where: { $0 == "--api-key" || $0.hasPrefix("--api-key=") }) {
            logger.warning(
                "--api-key on the command line is visible to every local user in /proc/\(getpid())/cmdline; prefer --api-key-file or KIMI_API_KEY in an environment file"
            )
        }
        return keys
    }
}
