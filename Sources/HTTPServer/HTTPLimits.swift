/// Every limit and timeout of the HTTP layer, in one value (defaults follow guides/reliability.md
/// §3: Apache / Node / uhttpd norms for headers, Go's ReadHeaderTimeout idea for slowloris).
public struct HTTPLimits: Sendable {
    /// Request line (method, target, version) → 431 beyond.
    public var maxRequestLineBytes = 8 * 1024
    /// All header lines together → 431 beyond.
    public var maxHeaderBytes = 32 * 1024
    /// Header fields → 431 beyond.
    public var maxHeaderCount = 100
    /// Request body → 413 (before reading it when Content-Length says so).
    public var maxBodyBytes = 16 * 1024 * 1024
    /// From a request's first byte to the end of its headers → 408 and close.
    public var headerTimeout: Double = 10
    /// A body must arrive at this many bytes per second on average, after `bodyGrace` seconds.
    public var minBodyBytesPerSecond: Double = 4 * 1024
    public var bodyGrace: Double = 10
    /// A kept-alive connection with no new request for this long is closed.
    public var keepAliveTimeout: Double = 15
    /// A response write that cannot make progress for this long ends the connection (a client
    /// that stopped reading).
    public var writeTimeout: Double = 30
    /// Open connections; more are answered 503 and closed at once.
    public var maxConnections = 256

    public init() {}
}
