/// The head of an HTTP/1.1 request, parsed line by line as each line arrives (so a client that
/// sends its head a byte at a time costs a constant amount of work per byte), strictly as
/// RFC 9112 writes the grammar: a proxy in front that reads the same bytes differently could
/// otherwise smuggle a second request past it.
struct RequestHeadParser {
    let limits: HTTPLimits
    /// Set by the request line.
    private(set) var request: HTTPRequest?
    private var headerBytes = 0
    /// Bytes of empty lines before the request line (RFC 9112 §2.2 asks servers to skip them).
    private var leadingBytes = 0

    init(limits: HTTPLimits) {
        self.limits = limits
    }

    /// Parses one line (without its CRLF); true when it was the empty line that ends the head.
    mutating func line(_ bytes: ArraySlice<UInt8>) throws -> Bool {
        guard request != nil else {
            if bytes.isEmpty {
                leadingBytes += 2
                try checkPartial(bytes.count)
                return false
            }
            // The same limit as on a line still arriving (with its CRLF), however the bytes came.
            if leadingBytes + bytes.count + 2 > limits.maxRequestLineBytes {
                throw RequestFailure(status: 431, message: "the request line exceeds \(limits.maxRequestLineBytes) bytes")
            }
            request = try Self.requestLine(bytes)
            return false
        }
        // Every complete line counts with its CRLF, the empty one that ends the head too: at least
        // what a line still arriving was checked with, however the bytes came.
        headerBytes += bytes.count + 2
        try checkPartial(0)
        if bytes.isEmpty { return true }
        if bytes.first == 0x20 || bytes.first == 0x09 {
            throw RequestFailure(status: 400, message: "obsolete line folding in the header fields")
        }
        request!.headers.append(try Self.field(bytes))
        if request!.headers.count > limits.maxHeaderCount {
            throw RequestFailure(status: 431, message: "more than \(limits.maxHeaderCount) header fields")
        }
        return false
    }

    /// Limits on what has arrived so far, with `pending` bytes of a line not yet complete.
    func checkPartial(_ pending: Int) throws {
        if request == nil {
            if leadingBytes + pending > limits.maxRequestLineBytes {
                throw RequestFailure(status: 431, message: "the request line exceeds \(limits.maxRequestLineBytes) bytes")
            }
        } else if headerBytes + pending > limits.maxHeaderBytes {
            throw RequestFailure(status: 431, message: "the header fields exceed \(limits.maxHeaderBytes) bytes")
        }
    }

    /// `method SP request-target SP HTTP-version`, single spaces, nothing else.
    static func requestLine(_ line: ArraySlice<UInt8>) throws -> HTTPRequest {
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy(isTokenByte), !parts[1].isEmpty else {
            throw RequestFailure(status: 400, message: "malformed request line")
        }
        let method = String(decoding: parts[0], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            let v = Array(parts[2])
            let wellFormed = v.count == 8 && v[..<5].elementsEqual("HTTP/".utf8) && isDigit(v[5]) && v[6] == 0x2E && isDigit(v[7])
            throw RequestFailure(
                status: wellFormed ? 505 : 400,
                message: wellFormed ? "unsupported version \(version)" : "malformed request line")
        }
        return HTTPRequest(method: method, target: try target(parts[1], method: method), version: version, headers: [], body: [])
    }

    /// The request target as a path and query (RFC 9112 §3.2): origin-form as sent; absolute-form
    /// (`http://host/path`, which servers must accept) reduced to its path; `*` for OPTIONS.
    static func target(_ bytes: ArraySlice<UInt8>, method: String) throws -> String {
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw RequestFailure(
                status: 400,
                message:
                    "the request target \(String(decoding: bytes.prefix(200), as: UTF8.self)) holds a character that is not visible ASCII")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        if text.hasPrefix("/") { return text }
        if text == "*" {
            guard method == "OPTIONS" else { throw RequestFailure(status: 400, message: "the target * is only for OPTIONS") }
            return text
        }
        let lower = text.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            let rest = text.dropFirst(scheme.count)
            guard let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) else {
                guard !rest.isEmpty else { break }
                return "/"
            }
            guard authorityEnd != rest.startIndex else { break }
            let path = rest[authorityEnd...]
            return path.hasPrefix("/") ? String(path) : "/" + path
        }
        throw RequestFailure(status: 400, message: "malformed request target")
    }

    /// `field-name ":" OWS field-value OWS`, the name a token with no space before the colon,
    /// the value visible characters, spaces and tabs only (no NUL, CR, LF or other controls).
    static func field(_ line: ArraySlice<UInt8>) throws -> (name: String, value: String) {
        guard let colon = line.firstIndex(of: 0x3A), colon != line.startIndex,
            line[..<colon].allSatisfy(isTokenByte)
        else {
            throw RequestFailure(status: 400, message: "malformed header field")
        }
        var value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
            throw RequestFailure(status: 400, message: "a header field value holds a control character")
        }
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 { value = value.dropLast() }
        // Values are UTF-8 in practice; other bytes (obs-text) are read as Latin-1.
        let text = String(validating: value, as: UTF8.self) ?? String(value.map { Character(Unicode.Scalar($0)) })
        return (String(decoding: line[..<colon], as: UTF8.self), text)
    }

    /// RFC 9110 tchar.
    static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(b)
        }
    }

    static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }
}

/// Why no request could be read; `status` nil means: close without a response.
public struct RequestFailure: Error, Equatable {
    public let status: Int?
    public let message: String

    public init(status: Int?, message: String) {
        self.status = status
        self.message = message
    }
}
