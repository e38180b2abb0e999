import ArgumentParser
import Foundation
import KimiJSON
import Logging

/// Where log lines go: standard error, written by a background thread from a bounded queue,
/// so that a slow or blocked stderr (a full pipe, a stalled journald) never blocks serving —
/// lines are dropped instead, and the drops counted in the next line that gets through.
/// Sendable: `lines` and `dropped` are read and written only under `condition`.
final class LogSink: @unchecked Sendable {
    static let shared = LogSink()
    private let condition = NSCondition()
    private var lines: [String] = []
    private var dropped = 0
    private let capacity = 10_000

    private init() {
        let thread = Thread { [unowned self] in drain() }
        thread.name = "log-writer"
        thread.start()
    }

    func write(_ line: String) {
        condition.lock()
        if lines.count >= capacity {
            dropped += 1
        } else {
            lines.append(line)
            condition.signal()
        }
        condition.unlock()
    }

    /// Waits until queued lines are written (for shutdown).
    func flush(timeout: Double = 2) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        condition.lock()
        while !lines.isEmpty && condition.wait(until: deadline) {}
        condition.unlock()
    }

    private func drain() {
        while true {
            condition.lock()
            while lines.isEmpty { condition.wait() }
            var batch = lines
            lines.removeAll(keepingCapacity: true)
            if dropped > 0 {
                batch.append("level=warning msg=\"log lines dropped\" count=\(dropped)")
                dropped = 0
            }
            condition.broadcast()
            condition.unlock()
            let text = batch.joined(separator: "\n") + "\n"
            text.utf8CString.withUnsafeBufferPointer { buffer in
                var offset = 0
                let count = buffer.count - 1
                while offset < count {
                    let n = Foundation.write(2, buffer.baseAddress! + offset, count - offset)
                    if n <= 0 { break }
                    offset += n
                }
            }
        }
    }
}

/// How log lines are written: logfmt (`time=… level=info msg="…" key=value`) or JSON
/// (`{"time": …, "level": …, "msg": …, key: value}`).
public enum LogFormat: String, CaseIterable, ExpressibleByArgument, Sendable { case logfmt, json }

/// swift-log handler writing one line per event in a `LogFormat`.
struct LineLogHandler: LogHandler {

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    let label: String
    let format: LogFormat

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message
        var fields = metadata
        if let explicit = event.metadata { fields.merge(explicit) { $1 } }
        let time = ISO8601DateFormatter.string(
            from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let ordered = fields.sorted { $0.key < $1.key }
        switch format {
        case .logfmt:
            var parts = ["time=\(time)", "level=\(level)", "msg=\(Self.quoted(message.description))"]
            for (key, value) in ordered { parts.append("\(key)=\(Self.quoted(value.description))") }
            LogSink.shared.write(parts.joined(separator: " "))
        case .json:
            var parts = ["\"time\":\"\(time)\"", "\"level\":\"\(level)\"", "\"msg\":\(Self.json(message.description))"]
            for (key, value) in ordered { parts.append("\(Self.json(key)):\(Self.json(value.description))") }
            LogSink.shared.write("{" + parts.joined(separator: ",") + "}")
        }
    }

    /// A logfmt value: bare when it is printable ASCII without a space, quote or equals sign,
    /// else quoted.
    static func quoted(_ s: String) -> String {
        if !s.isEmpty && s.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x3D }) { return s }
        return json(s)
    }

    /// A JSON string literal that is safe on a terminal: besides what JSON must escape, every
    /// character a terminal or an editor may act on (DEL, the C1 controls such as CSI, the
    /// bidirectional overrides, the line separators) is written as a `\u` escape, so text from
    /// a client (a request path, a header) cannot move the cursor, retitle the window or hide
    /// part of a line.
    static func json(_ s: String) -> String {
        var out = ""
        JSONWriter.quote(s, to: &out) { scalar in
            let v = scalar.value
            return (0x7F...0x9F).contains(v) || (0x200E...0x200F).contains(v) || (0x2028...0x202E).contains(v)
                || (0x2066...0x2069).contains(v)
        }
        return out
    }
}
