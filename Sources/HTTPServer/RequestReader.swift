import Foundation

/// Reads HTTP/1.1 requests from a connection (RFC 9112): request line, header fields, and a
/// body framed by Content-Length or chunked transfer coding, under `HTTPLimits`. Bytes after a
/// request stay buffered for the next one (pipelining is served in order).
struct RequestReader {
    let socket: Socket
    let limits: HTTPLimits
    var buffer: [UInt8] = []

    /// Why no request could be read; `status` nil means: close without a response.
    struct Failure: Error {
        let status: Int?
        let message: String
    }

    /// The next request; nil when the connection closed or idled out between requests.
    /// `sendContinue` is called when the client asked for `100 Continue` before its body.
    mutating func next(idleTimeout: Double, sendContinue: () -> Void) throws -> HTTPRequest? {
        // Wait for the first byte of the next request.
        let idleDeadline = ProcessInfo.processInfo.systemUptime + idleTimeout
        while buffer.isEmpty {
            switch socket.read(into: &buffer, deadline: idleDeadline) {
            case .data: break
            case .closed, .timeout: return nil
            }
        }
        let headerDeadline = ProcessInfo.processInfo.systemUptime + limits.headerTimeout
        let headerEnd = try readHead(deadline: headerDeadline)
        var request = try parseHead(Array(buffer[..<headerEnd]))
        buffer.removeFirst(headerEnd + 4)

        let contentLengths = request.headers.filter { $0.name.caseInsensitiveEquals("Content-Length") }.map(\.value)
        let transferEncoding = request.header("Transfer-Encoding")
        if transferEncoding != nil && !contentLengths.isEmpty {
            throw Failure(status: 400, message: "both Content-Length and Transfer-Encoding are present")
        }
        if let expect = request.header("Expect"), expect.lowercased() != "100-continue" {
            throw Failure(status: 417, message: "unsupported Expect: \(expect)")
        }
        let wantsContinue = request.header("Expect") != nil
        if let te = transferEncoding {
            guard te.trimmingCharacters(in: .whitespaces).lowercased() == "chunked" else {
                throw Failure(status: 400, message: "unsupported Transfer-Encoding: \(te) (only chunked)")
            }
            if wantsContinue { sendContinue() }
            request.body = try readChunkedBody()
        } else if let first = contentLengths.first {
            guard contentLengths.allSatisfy({ $0 == first }), !first.isEmpty, first.utf8.count <= 18,
                  first.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let length = Int(first) else {
                throw Failure(status: 400, message: "invalid Content-Length")
            }
            guard length <= limits.maxBodyBytes else {
                throw Failure(status: 413, message: "the body is \(length) bytes; the limit is \(limits.maxBodyBytes)")
            }
            if wantsContinue && length > 0 && buffer.isEmpty { sendContinue() }
            request.body = try readBytes(length, start: ProcessInfo.processInfo.systemUptime)
        }
        return request
    }

    /// Reads until the blank line ending the head; returns its offset in `buffer`.
    private mutating func readHead(deadline: Double) throws -> Int {
        var searched = 0
        while true {
            if let end = find([13, 10, 13, 10], from: max(0, searched - 3)) {
                try checkHeadLimits(upTo: end)
                return end
            }
            searched = buffer.count
            try checkHeadLimits(upTo: buffer.count)
            switch socket.read(into: &buffer, deadline: deadline) {
            case .data: continue
            case .closed: throw Failure(status: nil, message: "closed while sending headers")
            case .timeout: throw Failure(status: 408, message: "headers not received within \(Int(limits.headerTimeout)) s")
            }
        }
    }

    /// Limits on what has been received of the head so far.
    private func checkHeadLimits(upTo end: Int) throws {
        let lineEnd = find([13, 10], from: 0).map { min($0, end) } ?? end
        if lineEnd > limits.maxRequestLineBytes {
            throw Failure(status: 431, message: "the request line exceeds \(limits.maxRequestLineBytes) bytes")
        }
        if end - lineEnd > limits.maxHeaderBytes {
            throw Failure(status: 431, message: "the header fields exceed \(limits.maxHeaderBytes) bytes")
        }
        var lines = 0
        var i = lineEnd
        while let next = find([13, 10], from: i + 2), next < end {
            lines += 1
            i = next
        }
        if lines > limits.maxHeaderCount {
            throw Failure(status: 431, message: "more than \(limits.maxHeaderCount) header fields")
        }
    }

    private func find(_ pattern: [UInt8], from start: Int) -> Int? {
        guard buffer.count >= pattern.count, start <= buffer.count - pattern.count else { return nil }
        return buffer.withUnsafeBufferPointer { b in
            var i = start
            while i <= b.count - pattern.count {
                if b[i] == pattern[0] && (1..<pattern.count).allSatisfy({ b[i + $0] == pattern[$0] }) { return i }
                i += 1
            }
            return nil
        }
    }

    private func parseHead(_ head: [UInt8]) throws -> HTTPRequest {
        guard let text = String(validating: head, as: UTF8.self) ?? String(bytes: head, encoding: .isoLatin1) else {
            throw Failure(status: 400, message: "unreadable request head")
        }
        var lines = text.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3, !requestLine[0].isEmpty, requestLine[0].allSatisfy(\.isTokenCharacter),
              requestLine[1].hasPrefix("/") || requestLine[1] == "*" else {
            throw Failure(status: 400, message: "malformed request line")
        }
        let version = String(requestLine[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw Failure(status: 505, message: "unsupported version \(version)")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  line[..<colon].allSatisfy(\.isTokenCharacter) else {
                throw Failure(status: 400, message: "malformed header field")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " \t"))
            headers.append((String(line[..<colon]), value))
        }
        return HTTPRequest(method: String(requestLine[0]), target: String(requestLine[1]), version: version,
                           headers: headers, body: [])
    }

    /// Reads `count` body bytes at no less than the minimum rate.
    private mutating func readBytes(_ count: Int, start: Double) throws -> [UInt8] {
        while buffer.count < count {
            let deadline = start + limits.bodyGrace + Double(count) / limits.minBodyBytesPerSecond
            switch socket.read(into: &buffer, deadline: deadline) {
            case .data: continue
            case .closed: throw Failure(status: nil, message: "closed while sending the body")
            case .timeout: throw Failure(status: 408, message: "the body arrived too slowly")
            }
        }
        let body = Array(buffer[..<count])
        buffer.removeFirst(count)
        return body
    }

    /// A chunked body: hex size lines (extensions ignored), data, a final zero chunk and
    /// optional trailer fields, all within the body and header limits.
    private mutating func readChunkedBody() throws -> [UInt8] {
        let start = ProcessInfo.processInfo.systemUptime
        var body: [UInt8] = []
        while true {
            let line = try readLine(start: start, received: body.count)
            let sizeText = line.prefix { $0 != ";" }.trimmingCharacters(in: .whitespaces)
            guard !sizeText.isEmpty, sizeText.count <= 15, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw Failure(status: 400, message: "invalid chunk size")
            }
            if size == 0 {
                // Trailer fields until a blank line.
                var trailerBytes = 0
                while true {
                    let trailer = try readLine(start: start, received: body.count)
                    if trailer.isEmpty { return body }
                    trailerBytes += trailer.utf8.count
                    if trailerBytes > limits.maxHeaderBytes { throw Failure(status: 431, message: "trailer fields too large") }
                }
            }
            guard body.count + size <= limits.maxBodyBytes else {
                throw Failure(status: 413, message: "the body exceeds \(limits.maxBodyBytes) bytes")
            }
            body += try readBytes(size, start: start)
            let end = try readLine(start: start, received: body.count)
            guard end.isEmpty else { throw Failure(status: 400, message: "chunk data not followed by CRLF") }
        }
    }

    private mutating func readLine(start: Double, received: Int) throws -> String {
        while true {
            if let end = find([13, 10], from: 0) {
                guard end <= 4096 else { throw Failure(status: 400, message: "chunk line too long") }
                let line = String(decoding: buffer[..<end], as: UTF8.self)
                buffer.removeFirst(end + 2)
                return line
            }
            if buffer.count > 4096 { throw Failure(status: 400, message: "chunk line too long") }
            let deadline = start + limits.bodyGrace + Double(received + 4096) / limits.minBodyBytesPerSecond
            switch socket.read(into: &buffer, deadline: deadline) {
            case .data: continue
            case .closed: throw Failure(status: nil, message: "closed while sending the body")
            case .timeout: throw Failure(status: 408, message: "the body arrived too slowly")
            }
        }
    }
}

extension Character {
    /// RFC 9110 tchar.
    var isTokenCharacter: Bool {
        guard let a = asciiValue else { return false }
        switch a {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(a)
        }
    }
}
