import Foundation

/// What the fuzz targets share: invariant checks that stop the run with a message (libFuzzer
/// saves the input that broke them as a crash) and the way to the repository's fixtures.
public enum Fuzz {
    /// Stops the process when `condition` is false. libFuzzer reports the trap as a crash and
    /// writes the input to its artifact directory.
    @inline(__always)
    public static func check(
        _ condition: Bool, _ message: @autoclosure () -> String,
        file: StaticString = #fileID, line: UInt = #line
    ) {
        if !condition { fail(message(), file: file, line: line) }
    }

    public static func fail(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
        fatalError("fuzz invariant broken: \(message)", file: file, line: line)
    }

    /// The repository's root: this file is Fuzz/Sources/FuzzSupport/FuzzSupport.swift.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A folder under Tests/Fixtures.
    public static func fixture(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name).path
    }

    /// A short, printable picture of some text for a failure message.
    public static func show(_ s: String, limit: Int = 200) -> String {
        let escaped = s.unicodeScalars.map {
            $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? String($0) : "\\u{\(String($0.value, radix: 16))}"
        }.joined()
        return escaped.count > limit ? String(escaped.prefix(limit)) + "…" : escaped
    }
}
