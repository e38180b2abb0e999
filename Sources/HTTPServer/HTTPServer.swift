import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Answers requests; runs on the request's connection thread and may block (a generation).
public protocol HTTPHandler: Sendable {
    func handle(_ request: HTTPRequest, _ writer: ResponseWriter)
    /// The response for an error found by the HTTP layer itself (malformed framing, limits,
    /// overload), so that every error body has the application's shape.
    func errorResponse(status: Int, message: String) -> HTTPResponse
    /// Told of every request the HTTP layer refuses itself (before the handler saw it), for the
    /// log and the metrics.
    func refused(status: Int, message: String)
}

/// An HTTP/1.1 server on POSIX sockets: one listening socket (IPv4 or IPv6), an accept thread,
/// one thread per connection, keep-alive, and every limit of `HTTPLimits`.
/// Sendable: `listener`, `accepting` and `boundPort` are set by `start` before its thread
/// starts, and after that `listener`, `accepting`, `connections` and `evicted` are read and
/// written under `lock`.
public final class HTTPServer: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 8000
        public var limits = HTTPLimits()
        public init() {}
    }

    public enum StartError: Error, CustomStringConvertible {
        case resolve(host: String, reason: String)
        case bind(address: String, errno: Int32)

        public var description: String {
            switch self {
            case let .resolve(host, reason): return "cannot resolve --host \(host): \(reason)"
            case let .bind(address, code): return "cannot listen on \(address): \(String(cString: strerror(code)))"
            }
        }
    }

    let configuration: Configuration
    let handler: HTTPHandler
    private var listener: Int32 = -1
    private let lock = NSLock()
    /// Open connections, by identity; guarded by `lock`.
    private var connections: [ObjectIdentifier: Connection] = [:]
    /// Connections shut down to make room, whose threads have not ended yet.
    private var evicted = 0
    private var accepting = false
    private let closer: LingeringCloser
    /// The port actually bound (useful with port 0).
    public private(set) var boundPort = 0

    public init(configuration: Configuration, handler: HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
        closer = LingeringCloser(timeout: configuration.limits.lingerTimeout)
    }

    /// Open connections.
    public var connectionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return connections.count
    }

    /// Binds the listening socket (or adopts `existing`, an inherited socket-activation fd) and
    /// starts accepting on a background thread.
    public func start(existing fd: Int32? = nil) throws {
        signal(SIGPIPE, SIG_IGN)
        listener = try fd ?? bind()
        accepting = true
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "http-accept"
        thread.start()
    }

    private func bind() throws -> Int32 {
        var hints = addrinfo()
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let host = configuration.host
        let status = getaddrinfo(host.isEmpty ? nil : host, String(configuration.port), &hints, &result)
        guard status == 0, let first = result else {
            throw StartError.resolve(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        let address = host.contains(":") ? "[\(host)]:\(configuration.port)" : "\(host):\(configuration.port)"
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw StartError.bind(address: address, errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if first.pointee.ai_family == AF_INET6 {
            var zero: Int32 = 0  // "::" also accepts IPv4
            setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, socklen_t(MemoryLayout<Int32>.size))
        }
        guard Glibc.bind(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(fd, 512) == 0 else {
            let code = errno
            close(fd)
            throw StartError.bind(address: address, errno: code)
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        if storage.ss_family == sa_family_t(AF_INET6) {
            boundPort = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        } else {
            boundPort = withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        return fd
    }

    /// Stops accepting: closes the listening socket and the connections waiting for a request.
    /// Connections reading or answering one finish it, then close.
    public func stopAccepting() {
        lock.lock()
        let fd = listener
        accepting = false
        listener = -1
        for connection in connections.values where connection.phase == .waiting { connection.socket.shutdownBoth() }
        lock.unlock()
        if fd >= 0 {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    private func acceptLoop() {
        while true {
            lock.lock()
            let fd = listener
            lock.unlock()
            guard fd >= 0 else { return }
            let client = accept(fd, nil, nil)
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                return  // the listener was closed
            }
            let socket = Socket(fd: client)
            guard let connection = admit(socket) else {
                // Every connection is being answered: 503 at once, from this thread, briefly.
                handler.refused(status: 503, message: "too many open connections")
                let response = handler.errorResponse(status: 503, message: "too many open connections")
                ResponseWriter(
                    socket: socket, limits: configuration.limits, keepAlive: false, http10: false, headOnly: false,
                    headers: [("Retry-After", "1")]
                ).send(response, close: true)
                closer.close(socket)
                continue
            }
            let thread = Thread { [self] in
                serve(connection)
                closer.close(socket)
                lock.lock()
                connections[ObjectIdentifier(connection)] = nil
                if connection.evicted { evicted -= 1 }
                lock.unlock()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Registers a new connection, displacing the one that waited longest for its request when
    /// the limit is reached (idle keep-alive connections first, then the slowest senders), so that
    /// clients who dribble their requests cannot lock everyone else out. nil when every
    /// connection is being answered.
    private func admit(_ socket: Socket) -> Connection? {
        lock.lock()
        defer { lock.unlock() }
        if connections.count - evicted >= configuration.limits.maxConnections {
            let candidates = connections.values.filter { !$0.evicted && $0.phase != .handling }
            guard let victim = candidates.min(by: { ($0.phase == .waiting ? 0 : 1, $0.since) < ($1.phase == .waiting ? 0 : 1, $1.since) })
            else {
                return nil
            }
            victim.evicted = true
            evicted += 1
            victim.socket.shutdownBoth()
        }
        let connection = Connection(socket: socket)
        connections[ObjectIdentifier(connection)] = connection
        return connection
    }

    private func enter(_ phase: Connection.Phase, _ connection: Connection) {
        lock.lock()
        connection.phase = phase
        connection.since = ProcessInfo.processInfo.systemUptime
        let closing = phase == .waiting && !accepting
        lock.unlock()
        if closing { connection.socket.shutdownBoth() }
    }

    /// The request loop of one connection.
    private func serve(_ connection: Connection) {
        let socket = connection.socket
        let limits = configuration.limits
        var reader = RequestReader(source: socket, limits: limits)
        var first = true
        while true {
            enter(.waiting, connection)
            let request: HTTPRequest
            do {
                guard
                    let next = try reader.next(
                        idleTimeout: first ? limits.headerTimeout : limits.keepAliveTimeout,
                        started: { enter(.receiving, connection) },
                        sendContinue: {
                            socket.write(ResponseWriter.interimContinue, timeout: limits.writeTimeout)
                        })
                else { return }
                request = next
            } catch let failure as RequestFailure {
                if let status = failure.status {
                    handler.refused(status: status, message: failure.message)
                    ResponseWriter(socket: socket, limits: limits, keepAlive: false, http10: false, headOnly: false, headers: [])
                        .send(handler.errorResponse(status: status, message: failure.message), close: true)
                }
                return
            } catch {
                return
            }
            first = false
            enter(.handling, connection)
            lock.lock()
            let stillAccepting = accepting
            lock.unlock()
            let writer = ResponseWriter(
                socket: socket, limits: limits, keepAlive: request.keepAlive && stillAccepting,
                http10: request.version == "HTTP/1.0", headOnly: request.method == "HEAD",
                headers: [("Server", "kimi-serve")])
            handler.handle(request, writer)
            if !writer.started {
                writer.send(handler.errorResponse(status: 500, message: "the handler sent no response"), close: true)
            }
            if writer.closeAfter || socket.broken { return }
        }
    }
}

/// An open connection as the server tracks it (fields guarded by the server's lock).
/// Sendable: `phase`, `since` and `evicted` are read and written only under the server's `lock`;
/// the socket is read and written by the connection's own thread, other threads only shut it down.
final class Connection: @unchecked Sendable {
    enum Phase {
        /// Between requests: nothing of the next one has arrived.
        case waiting
        /// A request's head or body is arriving.
        case receiving
        /// The handler is answering.
        case handling
    }

    let socket: Socket
    var phase = Phase.waiting
    /// Uptime when `phase` began.
    var since = ProcessInfo.processInfo.systemUptime
    /// Shut down to make room for a new connection.
    var evicted = false

    init(socket: Socket) { self.socket = socket }
}
