/// Every limit and timeout of the HTTP layer, in one value. The header limits follow Apache's
/// `LimitRequestFields` (100) and Node's 16-80 KiB head limits; the body deadlines follow
/// nginx's `client_body_timeout` (an idle gap, 60 s) and Apache mod_reqtimeout's `MinRate`
/// (a deadline that moves with the bytes received, never with the bytes announced).
public struct HTTPLimits: Sendable {
    /// Request line (method, target, version) → 431 beyond.
    public var maxRequestLineBytes = 8 * 1024
    /// All header lines together → 431 beyond.
    public var maxHeaderBytes = 32 * 1024
    /// Header fields → 431 beyond.
    public var maxHeaderCount = 100
    /// Request body → 413 (before reading it when Content-Length says so).
    public var maxBodyBytes = 16 * 1024 * 1024
    /// From a request's first byte to the end of its head, in total → 408 and close.
    public var headerTimeout: Double = 10
    /// A body that sends nothing for this long → 408 and close.
    public var bodyIdleTimeout: Double = 60
    /// After `bodyGrace` seconds a body must have arrived at this many bytes per second on
    /// average: the deadline is `start + bodyGrace + received / minBodyBytesPerSecond`.
    public var minBodyBytesPerSecond: Double = 4 * 1024
    public var bodyGrace: Double = 10
    /// A kept-alive connection with no new request for this long is closed.
    public var keepAliveTimeout: Double = 15
    /// A response write that cannot make progress for this long ends the connection (a client
    /// that stopped reading).
    public var writeTimeout: Double = 30
    /// Open connections. At the limit a new connection displaces the connection that has
    /// waited longest for a request (idle ones first, then the slowest senders); when every
    /// connection is being answered, it gets 503.
    public var maxConnections = 256
    /// A read that brings fewer than `trickleBytes` of an unfinished request is followed by this
    /// pause, so a client sending a byte per packet costs a read per pause, not one per byte.
    /// Whole heads and bodies arrive in larger segments and never wait.
    public var trickleDelay: Double = 0.005
    public var trickleBytes = 256
    /// After the server closes its side, how long it keeps reading (and discarding) what the
    /// client still sends, so that the client reads the response instead of a reset.
    public var lingerTimeout: Double = 2

    public init() {}
}
