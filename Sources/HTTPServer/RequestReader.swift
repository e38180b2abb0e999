import Foundation

/// Reads HTTP/1.1 requests from a byte source (RFC 9112): the head (`RequestHeadParser`), then a
/// body framed by Content-Length or the chunked coding, under `HTTPLimits`. Bytes after a request
/// stay buffered for the next one (pipelining is served in order). Framing that RFC 9112 does not
/// allow is refused with 400 rather than guessed at.
public struct RequestReader<Source: ByteSource> {
    let source: Source
    let limits: HTTPLimits
    /// What was received; from `consumed` on, the rest of the request being read or the next
    /// one. Reading advances `consumed` (removing bytes from the front each time would cost the
    /// buffer's length per chunk of a body of many small chunks); the consumed front is dropped
    /// once it is as long as what follows it.
    private var buffer: [UInt8] = []
    private var consumed = 0
    private var unread: Int { buffer.count - consumed }

    public init(source: Source, limits: HTTPLimits) {
        self.source = source
        self.limits = limits
    }

    /// The next request; nil when the connection closed or idled out between requests.
    /// `started` is called once its first byte is in; `sendContinue` when the client asked for
    /// `100 Continue` before its body.
    public mutating func next(
        idleTimeout: Double, started: () -> Void = {},
        sendContinue: () -> Void = {}
    ) throws -> HTTPRequest? {
        let idleDeadline = ProcessInfo.processInfo.systemUptime + idleTimeout
        while unread == 0 {
            guard case .data = source.read(into: &buffer, deadline: idleDeadline) else { return nil }
        }
        started()
        var request = try readHead(deadline: ProcessInfo.processInfo.systemUptime + limits.headerTimeout)
        switch try Self.framing(of: request) {
        case .none:
            break
        case let .length(length):
            guard length <= limits.maxBodyBytes else {
                throw RequestFailure(status: 413, message: "the body is \(length) bytes; the limit is \(limits.maxBodyBytes)")
            }
            if Self.wantsContinue(request) && length > 0 && unread == 0 { sendContinue() }
            var progress = BodyProgress(limits: limits)
            request.body = try readBytes(length, &progress)
        case .chunked:
            if Self.wantsContinue(request) && unread == 0 { sendContinue() }
            request.body = try readChunkedBody()
        }
        compact()
        return request
    }

    /// Parses lines as they complete until the empty line that ends the head.
    private mutating func readHead(deadline: Double) throws -> HTTPRequest {
        var parser = RequestHeadParser(limits: limits)
        var lineStart = consumed
        var scanned = consumed
        while true {
            while let lf = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = try Self.line(buffer, from: lineStart, lf: lf)
                lineStart = lf + 1
                scanned = lineStart
                if try parser.line(line) {
                    consumed = lineStart
                    return try Self.checkedHead(parser.request!)
                }
            }
            scanned = buffer.count
            try parser.checkPartial(buffer.count - lineStart)
            switch source.read(into: &buffer, deadline: deadline) {
            case let .data(n): pauseIfTrickling(n)
            case .closed: throw RequestFailure(status: nil, message: "closed while sending headers")
            case .timeout: throw RequestFailure(status: 408, message: "headers not received within \(Int(limits.headerTimeout)) s")
            }
        }
    }

    private func pauseIfTrickling(_ count: Int) {
        if count < limits.trickleBytes && limits.trickleDelay > 0 { Thread.sleep(forTimeInterval: limits.trickleDelay) }
    }

    /// The line from `start` to the LF at `lf`, which must be preceded by a CR; a bare CR or LF
    /// anywhere is refused.
    private static func line(_ buffer: [UInt8], from start: Int, lf: Int) throws -> ArraySlice<UInt8> {
        guard lf > start, buffer[lf - 1] == 0x0D else { throw RequestFailure(status: 400, message: "a line ends with a bare LF") }
        let line = buffer[start..<(lf - 1)]
        guard !line.contains(0x0D) else { throw RequestFailure(status: 400, message: "a bare CR inside a line") }
        return line
    }

    /// Checks that need the whole head: Host (RFC 9112 §3.2), Expect.
    private static func checkedHead(_ request: HTTPRequest) throws -> HTTPRequest {
        let hosts = request.headers.filter { $0.name.caseInsensitiveEquals("Host") }
        if request.version == "HTTP/1.1" && hosts.count != 1 {
            throw RequestFailure(
                status: 400, message: hosts.isEmpty ? "an HTTP/1.1 request needs a Host header" : "more than one Host header")
        }
        if let host = hosts.first?.value, !host.utf8.allSatisfy(isHostByte) {
            throw RequestFailure(status: 400, message: "invalid Host header")
        }
        for expect in request.headers where expect.name.caseInsensitiveEquals("Expect") {
            guard expect.value.lowercased() == "100-continue" else {
                throw RequestFailure(status: 417, message: "unsupported Expect: \(expect.value.prefix(100))")
            }
        }
        return request
    }

    /// RFC 3986 authority characters: unreserved, sub-delims, ":", "[", "]", "%".
    private static func isHostByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "-._~!$&'()*+,;=:[]%".utf8.contains(b)
        }
    }

    private static func wantsContinue(_ request: HTTPRequest) -> Bool { request.header("Expect") != nil }

    enum Framing: Equatable {
        case none, length(Int), chunked
    }

    /// How the body is delimited (RFC 9112 §6): Content-Length values must agree; chunked must be
    /// the only and final transfer coding, never beside Content-Length, never in HTTP/1.0.
    static func framing(of request: HTTPRequest) throws -> Framing {
        func list(_ name: String) -> [String]? {
            let fields = request.headers.filter { $0.name.caseInsensitiveEquals(name) }
            guard !fields.isEmpty else { return nil }
            return fields.flatMap { $0.value.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }
        }
        let lengths = list("Content-Length")
        guard let codings = list("Transfer-Encoding")?.filter({ !$0.isEmpty }).map({ $0.lowercased() }) else {
            guard let lengths else { return .none }
            guard let first = lengths.first, lengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
                first.utf8.allSatisfy(RequestHeadParser.isDigit), let length = Int(first)
            else {
                throw RequestFailure(status: 400, message: "invalid Content-Length")
            }
            return .length(length)
        }
        if lengths != nil { throw RequestFailure(status: 400, message: "both Content-Length and Transfer-Encoding are present") }
        if request.version == "HTTP/1.0" { throw RequestFailure(status: 400, message: "Transfer-Encoding in an HTTP/1.0 request") }
        guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
            throw RequestFailure(status: 400, message: "chunked must be the final transfer coding, once")
        }
        guard codings.count == 1 else {
            throw RequestFailure(status: 501, message: "unsupported transfer coding \(codings[0].prefix(40)) (only chunked)")
        }
        return .chunked
    }

    /// The body's deadlines, which move with the bytes received: an idle gap of
    /// `bodyIdleTimeout`, and a minimum average rate after `bodyGrace`.
    struct BodyProgress {
        let limits: HTTPLimits
        let start = ProcessInfo.processInfo.systemUptime
        var lastByte = ProcessInfo.processInfo.systemUptime
        var received = 0

        init(limits: HTTPLimits) { self.limits = limits }

        var deadline: Double {
            min(
                lastByte + limits.bodyIdleTimeout,
                start + limits.bodyGrace + Double(received) / limits.minBodyBytesPerSecond)
        }

        mutating func record(_ count: Int) {
            received += count
            lastByte = ProcessInfo.processInfo.systemUptime
        }
    }

    /// Drops the consumed front of the buffer when that costs no more than what was consumed.
    private mutating func compact() {
        guard consumed > 0 && consumed >= unread else { return }
        buffer.removeFirst(consumed)
        consumed = 0
    }

    /// Waits for more body bytes.
    private mutating func receive(_ progress: inout BodyProgress) throws {
        compact()
        switch source.read(into: &buffer, deadline: progress.deadline) {
        case let .data(n):
            progress.record(n)
            pauseIfTrickling(n)
        case .closed: throw RequestFailure(status: nil, message: "closed while sending the body")
        case .timeout: throw RequestFailure(status: 408, message: "the body stalled or arrived too slowly")
        }
    }

    /// The next `count` bytes.
    private mutating func readBytes(_ count: Int, _ progress: inout BodyProgress) throws -> [UInt8] {
        while unread < count { try receive(&progress) }
        let bytes = Array(buffer[consumed..<(consumed + count)])
        consumed += count
        return bytes
    }

    /// The next CRLF-terminated line of at most `limit` bytes, without its CRLF.
    private mutating func readLine(_ progress: inout BodyProgress, limit: Int) throws -> ArraySlice<UInt8> {
        var scanned = 0  // bytes after `consumed` known to hold no LF
        while true {
            if let lf = buffer[(consumed + scanned)...].firstIndex(of: 0x0A) {
                guard lf - consumed <= limit + 1 else { throw RequestFailure(status: 400, message: "a chunk line is too long") }
                let line = try Self.line(buffer, from: consumed, lf: lf)
                consumed = lf + 1
                return line
            }
            if unread > limit + 1 { throw RequestFailure(status: 400, message: "a chunk line is too long") }
            scanned = unread
            try receive(&progress)
        }
    }

    /// A chunked body (RFC 9112 §7.1): `1*HEXDIG [chunk-ext] CRLF data CRLF` repeated, then a zero
    /// size, trailer fields and an empty line; within the body and header limits.
    private mutating func readChunkedBody() throws -> [UInt8] {
        var progress = BodyProgress(limits: limits)
        var body: [UInt8] = []
        while true {
            let size = try Self.chunkSize(
                try readLine(&progress, limit: 4096), room: limits.maxBodyBytes - body.count,
                limit: limits.maxBodyBytes)
            if size == 0 {
                var trailerBytes = 0
                var trailers = 0
                while true {
                    let trailer = try readLine(&progress, limit: limits.maxHeaderBytes)
                    if trailer.isEmpty { return body }
                    _ = try RequestHeadParser.field(trailer)
                    trailerBytes += trailer.count + 2
                    trailers += 1
                    if trailerBytes > limits.maxHeaderBytes || trailers > limits.maxHeaderCount {
                        throw RequestFailure(status: 431, message: "trailer fields too large")
                    }
                }
            }
            body += try readBytes(size, &progress)
            while unread < 2 { try receive(&progress) }
            guard buffer[consumed] == 0x0D, buffer[consumed + 1] == 0x0A else {
                throw RequestFailure(status: 400, message: "chunk data not followed by CRLF")
            }
            consumed += 2
        }
    }

    /// A chunk-size line's size: hex digits only (no sign, no prefix, no spaces), then nothing
    /// or extensions (`;name[=value]`, ignored). 413 when it exceeds `room`, what is left of the
    /// body's `limit`.
    static func chunkSize(_ line: ArraySlice<UInt8>, room: Int, limit: Int) throws -> Int {
        let digits = line.prefix { hexValue($0) != nil }
        var rest = line[digits.endIndex...]
        while let first = rest.first, first == 0x20 || first == 0x09 { rest = rest.dropFirst() }
        guard !digits.isEmpty, rest.isEmpty || rest.first == 0x3B,
            rest.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
        else {
            throw RequestFailure(status: 400, message: "invalid chunk size")
        }
        var size = 0
        for digit in digits {
            size = size * 16 + hexValue(digit)!
            if size > room { throw RequestFailure(status: 413, message: "the body exceeds \(limit) bytes") }
        }
        return size
    }

    static func hexValue(_ b: UInt8) -> Int? {
        switch b {
        case 0x30...0x39: return Int(b - 0x30)
        case 0x41...0x46: return Int(b - 0x41 + 10)
        case 0x61...0x66: return Int(b - 0x61 + 10)
        default: return nil
        }
    }
}
