import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A connected TCP socket with deadline-bounded reads and writes (poll before every call).
final class Socket: @unchecked Sendable {
    let fd: Int32
    /// Set once a write failed or timed out, or the peer closed: later writes fail at once.
    private(set) var broken = false

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    enum ReadResult {
        case data(Int)
        case closed
        case timeout
    }

    /// Reads what is available into `buffer` (appending), waiting until `deadline` (uptime
    /// seconds) for the first byte.
    func read(into buffer: inout [UInt8], max: Int = 64 * 1024, deadline: Double) -> ReadResult {
        while true {
            let remaining = deadline - ProcessInfo.processInfo.systemUptime
            if remaining <= 0 { return .timeout }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return .closed }
            if ready == 0 { continue }
            let start = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: max))
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + start, max, 0) }
            buffer.removeLast(max - Swift.max(n, 0))
            if n > 0 { return .data(n) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            broken = true
            return .closed
        }
    }

    /// Writes all of `bytes`; false if the peer is gone or made no progress for `timeout` seconds.
    @discardableResult
    func write(_ bytes: UnsafeRawBufferPointer, timeout: Double) -> Bool {
        if broken { return false }
        var sent = 0
        var lastProgress = ProcessInfo.processInfo.systemUptime
        while sent < bytes.count {
            let n = send(fd, bytes.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if n > 0 {
                sent += n
                lastProgress = ProcessInfo.processInfo.systemUptime
                continue
            }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                broken = true
                return false
            }
            let remaining = timeout - (ProcessInfo.processInfo.systemUptime - lastProgress)
            if remaining <= 0 {
                broken = true
                return false
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&p, 1, Int32(min(remaining * 1000, 1000)) + 1)
        }
        return true
    }

    func write(_ bytes: [UInt8], timeout: Double) -> Bool {
        bytes.withUnsafeBytes { write($0, timeout: timeout) }
    }

    /// Whether the peer has closed or reset the connection (without consuming any data).
    var peerClosed: Bool {
        if broken { return true }
        let rdhup: Int16 = 0x2000  // POLLRDHUP (Linux): the peer shut down its writing half
        var p = pollfd(fd: fd, events: Int16(POLLIN) | rdhup, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        if p.revents & (Int16(POLLHUP) | Int16(POLLERR) | rdhup) != 0 { return true }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0
    }

    /// Stops sending; lets the peer read what was written before the close.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }
}
