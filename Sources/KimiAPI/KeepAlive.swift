import Foundation
import HTTPServer

/// Keeps a server-sent event stream alive through a long silence (a long prompt being read, a
/// wait in the queue): after `interval` seconds without a write, a comment line, which clients
/// ignore and proxies count as traffic.
final class KeepAlive {
    let interval: Double
    private var lastWrite = ProcessInfo.processInfo.systemUptime

    init(interval: Double) { self.interval = interval }

    /// Notes a write to the stream.
    func wrote() { lastWrite = ProcessInfo.processInfo.systemUptime }

    /// Whether the stream has been silent for `interval` seconds.
    var isDue: Bool { ProcessInfo.processInfo.systemUptime - lastWrite >= interval }

    /// A comment on `events` if the stream has been silent for `interval` seconds.
    func ping(_ events: EventStream) {
        guard isDue else { return }
        events.comment("ping")
        wrote()
    }
}
