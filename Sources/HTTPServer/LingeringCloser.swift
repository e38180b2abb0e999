import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Closes the connections the server is done with, gracefully (RFC 9112 §9.6): it shuts down the
/// sending side, then keeps reading and discarding until the client closes too or `timeout`
/// passes. Closing at once while the client's request bytes are still unread makes the kernel
/// answer with a reset, and a client that receives the reset before reading may never see the
/// response (a 413, a 503) that was sent just before. One thread serves every lingering socket.
/// Sendable: `pending` is read and written only under `condition`; its sockets are used by the
/// closing thread alone once handed over.
final class LingeringCloser: @unchecked Sendable {
    private let timeout: Double
    private let condition = NSCondition()
    /// Sockets with the uptime at which they are closed whatever the client does.
    private var pending: [(socket: Socket, deadline: Double)] = []
    /// Beyond this many lingering sockets a connection is closed at once (a reset at worst).
    private let capacity = 1024

    init(timeout: Double) {
        self.timeout = timeout
        let thread = Thread { [unowned self] in run() }
        thread.name = "http-linger"
        thread.start()
    }

    /// Takes over `socket`: the caller must not use it again.
    func close(_ socket: Socket) {
        socket.shutdownWrite()
        condition.lock()
        if pending.count < capacity {
            pending.append((socket, ProcessInfo.processInfo.systemUptime + timeout))
            condition.signal()
        }
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let sockets = pending
            condition.unlock()
            var fds = sockets.map { pollfd(fd: $0.socket.fd, events: Int16(POLLIN), revents: 0) }
            _ = poll(&fds, nfds_t(fds.count), 100)
            let now = ProcessInfo.processInfo.systemUptime
            var done = Set<Int32>()
            for (i, entry) in sockets.enumerated() {
                let ended = fds[i].revents != 0 && !entry.socket.discardAvailable()
                if ended || now >= entry.deadline { done.insert(entry.socket.fd) }
            }
            guard !done.isEmpty else { continue }
            condition.lock()
            pending.removeAll { done.contains($0.socket.fd) }  // their deinit closes them
            condition.unlock()
        }
    }
}
