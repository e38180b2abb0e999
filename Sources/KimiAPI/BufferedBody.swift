import HTTPServer

/// A 200 response body written as it is produced: kept in memory while it is small and sent
/// whole (with Content-Length), or, once it outgrows `flushBytes`, sent in chunks as it grows.
/// A large answer (the log-probabilities of thousands of tokens, times `n` choices) then costs
/// a chunk of memory, not its whole size. After the first chunk the status is sent, so a later
/// failure can only cut the body short (`abort`), which clients report as an error.
struct BufferedBody {
    let writer: ResponseWriter
    let contentType: String
    var flushBytes = 64 * 1024
    private var pending: [UInt8] = []
    private var stream: BodyStream?

    init(writer: ResponseWriter, contentType: String) {
        self.writer = writer
        self.contentType = contentType
    }

    /// Whether the status has been sent.
    var committed: Bool { stream != nil }

    mutating func append(_ text: String) {
        pending += text.utf8
        if pending.count >= flushBytes { flush() }
    }

    private mutating func flush() {
        if stream == nil { stream = writer.startBody(headers: [("Content-Type", contentType)]) }
        stream!.write(pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Sends what is left: the whole response, or the last chunk and the body's end.
    mutating func finish() {
        guard let stream else {
            writer.send(HTTPResponse(status: 200, headers: [("Content-Type", contentType)], body: pending))
            return
        }
        stream.write(pending)
        stream.finish()
    }

    /// Ends a committed body without its end, closing the connection.
    func abort() { stream?.abort() }
}
