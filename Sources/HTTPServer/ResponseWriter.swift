import Foundation

/// How a handler answers one request: a whole response, or a stream of server-sent events
/// (chunked, each event flushed as it is written). Exactly one of `send` / `startEventStream`.
public final class ResponseWriter: @unchecked Sendable {
    let socket: Socket
    let limits: HTTPLimits
    let keepAlive: Bool
    let http10: Bool
    let extraHeaders: [(name: String, value: String)]
    private(set) var started = false
    /// Whether the connection must close after this response.
    private(set) var closeAfter = false

    init(socket: Socket, limits: HTTPLimits, keepAlive: Bool, http10: Bool, extraHeaders: [(name: String, value: String)]) {
        self.socket = socket
        self.limits = limits
        self.keepAlive = keepAlive
        self.http10 = http10
        self.extraHeaders = extraHeaders
        closeAfter = !keepAlive
    }

    /// Whether the client has gone away (closed or reset its connection, or stopped reading).
    public var clientGone: Bool { socket.peerClosed }

    private func head(_ status: Int, _ headers: [(name: String, value: String)]) -> String {
        var lines = ["HTTP/1.1 \(status) \(reasonPhrase(status))"]
        for (name, value) in headers + extraHeaders where !value.contains(where: { $0 == "\r" || $0 == "\n" }) {
            lines.append("\(name): \(value)")
        }
        lines.append("Connection: \(closeAfter ? "close" : "keep-alive")")
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// Sends a complete response. Returns false if the client is gone.
    @discardableResult
    public func send(_ response: HTTPResponse, close: Bool = false) -> Bool {
        precondition(!started, "a response was already sent")
        started = true
        if close { closeAfter = true }
        var bytes = Array(head(response.status, response.headers + [("Content-Length", String(response.body.count))]).utf8)
        bytes += response.body
        let ok = socket.write(bytes, timeout: limits.writeTimeout)
        if !ok { closeAfter = true }
        return ok
    }

    /// Starts a `text/event-stream` response.
    public func startEventStream(status: Int = 200, headers: [(name: String, value: String)] = []) -> EventStream {
        precondition(!started, "a response was already sent")
        started = true
        if http10 { closeAfter = true }  // no chunked coding in HTTP/1.0: the close ends the body
        let all = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")] + headers
            + (http10 ? [] : [("Transfer-Encoding", "chunked")])
        let ok = socket.write(Array(head(status, all).utf8), timeout: limits.writeTimeout)
        return EventStream(writer: self, chunked: !http10, open: ok)
    }

    fileprivate func writeBody(_ bytes: [UInt8], chunked: Bool) -> Bool {
        guard chunked else { return socket.write(bytes, timeout: limits.writeTimeout) }
        var framed = Array(String(bytes.count, radix: 16).utf8) + [13, 10]
        framed += bytes
        framed += [13, 10]
        return socket.write(framed, timeout: limits.writeTimeout)
    }

    fileprivate func endBody(chunked: Bool) {
        if chunked { _ = socket.write(Array("0\r\n\r\n".utf8), timeout: limits.writeTimeout) }
    }

    fileprivate func markBroken() { closeAfter = true }
}

/// A server-sent-event stream: each `send` is one event, written and flushed at once.
public final class EventStream: @unchecked Sendable {
    let writer: ResponseWriter
    let chunked: Bool
    /// False once a write failed: the client is gone.
    public private(set) var open: Bool
    private var finished = false

    init(writer: ResponseWriter, chunked: Bool, open: Bool) {
        self.writer = writer
        self.chunked = chunked
        self.open = open
        if !open { writer.markBroken() }
    }

    /// Sends `data: <line>\n\n`. Returns false if the client is gone.
    @discardableResult
    public func send(data: String) -> Bool {
        write("data: " + data + "\n\n")
    }

    /// Sends an SSE comment (`: text`), which clients ignore: a keep-alive while nothing else
    /// is ready.
    @discardableResult
    public func comment(_ text: String) -> Bool {
        write(": " + text + "\n\n")
    }

    private func write(_ event: String) -> Bool {
        guard open else { return false }
        if !writer.writeBody(Array(event.utf8), chunked: chunked) {
            open = false
            writer.markBroken()
        }
        return open
    }

    /// Ends the stream (the terminating chunk).
    public func finish() {
        guard !finished else { return }
        finished = true
        if open { writer.endBody(chunked: chunked) }
    }

    /// Whether the client has gone away.
    public var clientGone: Bool { !open || writer.clientGone }
}
