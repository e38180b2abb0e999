import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// systemd's notify protocol spoken directly (no libsystemd): one datagram per message to the
/// AF_UNIX socket in $NOTIFY_SOCKET (a path, or an abstract name starting with "@").
/// Without $NOTIFY_SOCKET every call does nothing.
/// Sendable: `address` and `length` are written only in `init`, and `send` only reads them (a
/// copy of the address goes to `sendto`); `sendto` on one datagram socket from several threads
/// is safe.
final class SystemdNotifier: @unchecked Sendable {
    private let fd: Int32
    private var address = sockaddr_un()
    private var length = socklen_t(0)
    /// Half of $WATCHDOG_USEC when systemd's watchdog is on for this process.
    let watchdogInterval: Double?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init),
            environment["WATCHDOG_PID"].map({ Int32($0) == getpid() }) ?? true
        {
            watchdogInterval = usec / 2e6
        } else {
            watchdogInterval = nil
        }
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty, path.utf8.count < 108 else {
            fd = -1
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // the abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Sends newline-separated assignments, e.g. "READY=1\nSTATUS=serving".
    func send(_ message: String) {
        guard fd >= 0 else { return }
        let bytes = Array(message.utf8)
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                _ = bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
    }
}
