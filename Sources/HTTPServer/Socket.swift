import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Where a request reader gets its bytes: a connection, or memory (a fuzz target, a test).
public protocol ByteSource: SendableMetatype {
    /// Appends what is available to `buffer`, waiting until `deadline` (uptime seconds) for the
    /// first byte.
    func read(into buffer: inout [UInt8], deadline: Double) -> ReadResult
}

public enum ReadResult: Equatable {
    case data(Int)
    /// The peer will send no more: it closed, or only shut down its sending side.
    case closed
    case timeout
}

/// A connected TCP socket with deadline-bounded reads and writes (poll before every call).
/// Sendable: the thread serving the connection reads and writes it (and `broken`); other threads
/// only call `shutdownBoth`, a system call on the descriptor.
final class Socket: ByteSource, @unchecked Sendable {
    let fd: Int32
    /// Set once a write failed or timed out, or the connection reported an error or hang-up:
    /// later writes fail at once.
    private(set) var broken = false
    /// Bytes read per call; reads land here before they are appended to a request's buffer.
    private static let readSize = 64 * 1024
    private let scratch = UnsafeMutableRawPointer.allocate(byteCount: Socket.readSize, alignment: 16)

    init(fd: Int32) {
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        scratch.deallocate()
        close(fd)
    }

    func read(into buffer: inout [UInt8], deadline: Double) -> ReadResult {
        while true {
            let remaining = deadline - ProcessInfo.processInfo.systemUptime
            if remaining <= 0 { return .timeout }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(remaining * 1000, 1000)) + 1)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return .closed }
            if ready == 0 { continue }
            let n = recv(fd, scratch, Self.readSize, 0)
            if n > 0 {
                buffer.append(contentsOf: UnsafeRawBufferPointer(start: scratch, count: n))
                return .data(n)
            }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            // 0: the peer sent its FIN. It may still read (a half-close), so writes stay allowed;
            // an error (a reset) ends the connection.
            if n < 0 { broken = true }
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

    @discardableResult
    func write(_ bytes: [UInt8], timeout: Double) -> Bool {
        bytes.withUnsafeBytes { write($0, timeout: timeout) }
    }

    enum PeerState {
        case open
        /// The peer sent its FIN: it closed, or only shut down its sending side and still reads.
        /// TCP cannot tell the two apart until something is written to it.
        case readEnded
        /// A reset or an error: nothing written will arrive.
        case gone
    }

    /// The peer's state, without consuming any data.
    var peerState: PeerState {
        if broken { return .gone }
        let rdhup: Int16 = 0x2000  // POLLRDHUP (Linux): the peer shut down its sending side
        var p = pollfd(fd: fd, events: Int16(POLLIN) | rdhup, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return .open }
        if p.revents & (Int16(POLLHUP) | Int16(POLLERR)) != 0 {
            broken = true
            return .gone
        }
        return p.revents & rdhup != 0 ? .readEnded : .open
    }

    /// Stops sending; the peer reads what was written, then the end of the stream.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Ends both directions from another thread: a blocked read or write returns at once.
    func shutdownBoth() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Reads and discards what has arrived, without waiting; false once the peer's side ended.
    func discardAvailable() -> Bool {
        while true {
            let n = recv(fd, scratch, Self.readSize, Int32(MSG_DONTWAIT))
            if n > 0 { continue }
            return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        }
    }
}
