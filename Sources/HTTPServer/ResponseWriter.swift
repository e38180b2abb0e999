import Foundation

/// How a handler answers one request: a whole response, or a stream of server-sent events
/// (chunked, each event flushed as it is written). Exactly one of `send` / `startEventStream`.
/// Sendable: the thread answering the request is the only one that uses it.
public final class ResponseWriter: @unchecked Sendable {
    let socket: Socket
    let limits: HTTPLimits
    let keepAlive: Bool
    let http10: Bool
    /// A response to HEAD: the head as for GET, no body (RFC 9110 §9.3.2).
    let headOnly: Bool
    /// Header fields added to whatever response is sent (the server's, then the handler's).
    public var headers: [(name: String, value: String)]
    private(set) var started = false
    /// Whether the connection must close after this response.
    private(set) var closeAfter = false
    /// The body being written piece by piece, once started: writes go through its framing.
    private weak var body: BodyStream?
    private var probed = false

    init(
        socket: Socket, limits: HTTPLimits, keepAlive: Bool, http10: Bool, headOnly: Bool,
        headers: [(name: String, value: String)]
    ) {
        self.socket = socket
        self.limits = limits
        self.keepAlive = keepAlive
        self.http10 = http10
        self.headOnly = headOnly
        self.headers = headers
        closeAfter = !keepAlive
    }

    /// Whether the client has gone away: a write failed, or the connection reported a reset or
    /// an error. A client that only ended its sending side (a half-close, as `nc -N` and some
    /// proxies do) is still there, and TCP cannot tell that from a full close until something
    /// is written; so the first time its side ends, a harmless probe is written — an interim
    /// `100 Continue` (RFC 9110 §15.2: clients must accept unexpected 1xx responses) before the
    /// response, an SSE comment during a stream — which a closed socket answers with a reset.
    public var clientGone: Bool {
        switch socket.peerState {
        case .open: return false
        case .gone: return true
        case .readEnded:
            if !probed {
                probed = true
                if let body {
                    body.write(body.probe)
                } else if !started && !http10 {
                    socket.write(Self.interimContinue, timeout: limits.writeTimeout)
                }
            }
            return socket.broken
        }
    }

    /// An interim `100 Continue` response: asked for by `Expect`, and the probe above.
    static let interimContinue = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func head(_ status: Int, _ fields: [(name: String, value: String)]) -> String {
        var lines = ["HTTP/1.1 \(status) \(reasonPhrase(status))"]
        for (name, value) in fields + headers where !value.contains(where: { $0 == "\r" || $0 == "\n" }) {
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
        if !headOnly { bytes += response.body }
        let ok = socket.write(bytes, timeout: limits.writeTimeout)
        if !ok { closeAfter = true }
        return ok
    }

    /// Starts a response whose body is written piece by piece (chunked; in HTTP/1.0, ended by
    /// the close), so that a large body is never held whole.
    public func startBody(status: Int = 200, headers: [(name: String, value: String)] = []) -> BodyStream {
        precondition(!started, "a response was already sent")
        started = true
        if http10 { closeAfter = true }
        let ok = socket.write(
            Array(head(status, headers + (http10 ? [] : [("Transfer-Encoding", "chunked")])).utf8),
            timeout: limits.writeTimeout)
        let body = BodyStream(writer: self, open: ok && !headOnly)
        self.body = body
        return body
    }

    /// Starts a `text/event-stream` response.
    public func startEventStream(status: Int = 200, headers: [(name: String, value: String)] = []) -> EventStream {
        EventStream(
            body: startBody(status: status, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")] + headers))
    }

    fileprivate func writeBody(_ bytes: [UInt8]) -> Bool {
        guard !http10 else { return socket.write(bytes, timeout: limits.writeTimeout) }
        var framed = Array(String(bytes.count, radix: 16).utf8) + [13, 10]
        framed += bytes
        framed += [13, 10]
        return socket.write(framed, timeout: limits.writeTimeout)
    }

    fileprivate func endBody() {
        if !http10 { _ = socket.write(Array("0\r\n\r\n".utf8), timeout: limits.writeTimeout) }
    }

    fileprivate func markBroken() { closeAfter = true }
}

/// A response body written piece by piece: chunks in HTTP/1.1, the bytes as they are in HTTP/1.0.
/// Sendable: the thread answering the request is the only one that uses it.
public final class BodyStream: @unchecked Sendable {
    let writer: ResponseWriter
    /// False once a write failed (the client is gone) or the body ended.
    public private(set) var open: Bool
    private var finished = false

    init(writer: ResponseWriter, open: Bool) {
        self.writer = writer
        self.open = open
        if !open { writer.markBroken() }
    }

    /// Writes `bytes` at once. Returns false if the client is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard open, !bytes.isEmpty else { return open }
        if !writer.writeBody(bytes) {
            open = false
            writer.markBroken()
        }
        return open
    }

    /// Ends the body (the terminating chunk).
    public func finish() {
        guard !finished else { return }
        finished = true
        if open { writer.endBody() }
    }

    /// Ends the response without its terminating chunk and closes the connection: the client
    /// sees a body cut short, HTTP's only way to fail a response whose status was sent.
    public func abort() {
        finished = true
        open = false
        writer.markBroken()
    }

    /// What `ResponseWriter.clientGone` writes to find out whether a half-closed client reads:
    /// nothing for a plain body (its next write tells), an SSE comment for an event stream.
    fileprivate var probe: [UInt8] = []

    /// Whether the client has gone away.
    public var clientGone: Bool { !open || writer.clientGone }
}

/// A server-sent-event stream: each `send` is one event, written and flushed at once.
public final class EventStream: Sendable {
    let body: BodyStream

    init(body: BodyStream) {
        self.body = body
        body.probe = Array(": \n\n".utf8)
    }

    public var open: Bool { body.open }

    /// Sends `data: <line>\n\n`, or `event: <name>\n` before it for a named event. Returns
    /// false if the client is gone.
    @discardableResult
    public func send(event: String? = nil, data: String) -> Bool {
        body.write(Array(((event.map { "event: \($0)\n" } ?? "") + "data: " + data + "\n\n").utf8))
    }

    /// Sends an SSE comment (`: text`), which clients ignore: a keep-alive while nothing else
    /// is ready.
    @discardableResult
    public func comment(_ text: String) -> Bool {
        body.write(Array((": " + text + "\n\n").utf8))
    }

    /// Ends the stream (the terminating chunk).
    public func finish() { body.finish() }

    /// Whether the client has gone away.
    public var clientGone: Bool { body.clientGone }
}
