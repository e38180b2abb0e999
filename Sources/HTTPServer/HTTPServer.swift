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
}

/// An HTTP/1.1 server on POSIX sockets: one listening socket (IPv4 or IPv6), an accept thread,
/// one thread per connection, keep-alive, and every limit of `HTTPLimits`.
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
    private var connections = 0
    private var accepting = false
    /// The port actually bound (useful with port 0).
    public private(set) var boundPort = 0

    public init(configuration: Configuration, handler: HTTPHandler) {
        self.configuration = configuration
        self.handler = handler
    }

    /// Open connections.
    public var connectionCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return connections
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
            boundPort = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        } else {
            boundPort = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        }
        return fd
    }

    /// Stops accepting: closes the listening socket. Open connections finish their requests.
    public func stopAccepting() {
        lock.lock()
        let fd = listener
        accepting = false
        listener = -1
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
            lock.lock()
            let admitted = connections < configuration.limits.maxConnections
            if admitted { connections += 1 }
            lock.unlock()
            guard admitted else {
                // Too many connections: answer at once and close, from this thread, briefly.
                let response = handler.errorResponse(status: 503, message: "too many open connections")
                ResponseWriter(socket: socket, limits: configuration.limits, keepAlive: false, http10: false,
                               extraHeaders: [("Retry-After", "1")]).send(response, close: true)
                continue
            }
            let thread = Thread { [self] in
                serve(socket)
                lock.lock()
                connections -= 1
                lock.unlock()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// The request loop of one connection.
    private func serve(_ socket: Socket) {
        let limits = configuration.limits
        var reader = RequestReader(socket: socket, limits: limits)
        var first = true
        while true {
            let request: HTTPRequest
            do {
                guard let next = try reader.next(idleTimeout: first ? limits.headerTimeout : limits.keepAliveTimeout, sendContinue: {
                    _ = socket.write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8), timeout: limits.writeTimeout)
                }) else { return }
                request = next
            } catch let failure as RequestReader.Failure {
                if let status = failure.status {
                    ResponseWriter(socket: socket, limits: limits, keepAlive: false, http10: false, extraHeaders: [])
                        .send(handler.errorResponse(status: status, message: failure.message), close: true)
                    socket.shutdownWrite()
                }
                return
            } catch {
                return
            }
            first = false
            lock.lock()
            let stillAccepting = accepting
            lock.unlock()
            let writer = ResponseWriter(socket: socket, limits: limits, keepAlive: request.keepAlive && stillAccepting,
                                        http10: request.version == "HTTP/1.0", extraHeaders: [("Server", "kimi-serve")])
            handler.handle(request, writer)
            if !writer.started {
                writer.send(handler.errorResponse(status: 500, message: "the handler sent no response"), close: true)
            }
            if writer.closeAfter || socket.broken {
                socket.shutdownWrite()
                return
            }
        }
    }
}
