import FuzzSupport
import HTTPServer

// RequestReader on arbitrary bytes, read twice: delivered at once, and a few bytes per read (a
// client trickling its request). The reader parses incrementally, so both must give the same
// requests in the same order, and end the same way (a clean end, or a refusal); every request
// it gives stays within the limits.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var limits = HTTPLimits()
    limits.maxRequestLineBytes = 512
    limits.maxHeaderBytes = 1024
    limits.maxHeaderCount = 16
    limits.maxBodyBytes = 4096
    limits.trickleDelay = 0
    let whole = read(bytes, piece: max(bytes.count, 1), limits)
    let trickled = read(bytes, piece: 1 + size % 5, limits)
    Fuzz.check(
        whole.requests.count == trickled.requests.count && zip(whole.requests, trickled.requests).allSatisfy(same),
        "the requests depend on how the bytes arrive")
    Fuzz.check(whole.refused == trickled.refused, "refused \(whole.refused) at once, \(trickled.refused) trickled")
    for request in whole.requests {
        Fuzz.check(request.body.count <= limits.maxBodyBytes, "a body of \(request.body.count) bytes passed the limit")
        Fuzz.check(request.headers.count <= limits.maxHeaderCount, "\(request.headers.count) header fields passed the limit")
        Fuzz.check(request.target.hasPrefix("/") || request.target == "*", "target \(Fuzz.show(request.target))")
        Fuzz.check(request.version == "HTTP/1.1" || request.version == "HTTP/1.0", "version \(Fuzz.show(request.version))")
        for field in request.headers {
            Fuzz.check(
                !field.value.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F },
                "a control character in a field value passed: \(Fuzz.show(field.value))")
        }
    }
    return 0
}

/// Memory delivered `piece` bytes per read, then the end of the stream.
private final class Pieces: ByteSource {
    let bytes: [UInt8]
    let piece: Int
    var at = 0

    init(_ bytes: [UInt8], piece: Int) {
        self.bytes = bytes
        self.piece = piece
    }

    func read(into buffer: inout [UInt8], deadline: Double) -> ReadResult {
        guard at < bytes.count else { return .closed }
        let n = min(piece, bytes.count - at)
        buffer += bytes[at..<(at + n)]
        at += n
        return .data(n)
    }
}

private func read(_ bytes: [UInt8], piece: Int, _ limits: HTTPLimits) -> (requests: [HTTPRequest], refused: Bool) {
    var reader = RequestReader(source: Pieces(bytes, piece: piece), limits: limits)
    var requests: [HTTPRequest] = []
    do {
        while let request = try reader.next(idleTimeout: 1) { requests.append(request) }
        return (requests, false)
    } catch is RequestFailure {
        return (requests, true)
    } catch {
        Fuzz.fail("unexpected error \(error)")
    }
}

private func same(_ a: HTTPRequest, _ b: HTTPRequest) -> Bool {
    a.method == b.method && a.target == b.target && a.version == b.version && a.body == b.body
        && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
}
