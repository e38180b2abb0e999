import Foundation
import HTTPServer
import KimiServing
import Logging

/// The serving process after start-up: systemd watchdog pings from the engine's progress, and
/// a graceful shutdown on SIGTERM or SIGINT — STOPPING=1, the listener closed and new requests
/// refused (503), running generations given `drainTimeout` seconds to finish, the rest ended
/// with finish_reason "abort" and a final event, then exit 0. A second signal exits at once.
/// Sendable: `shuttingDown` is touched only by `signalled`, which runs on the serial `queue`;
/// `sources` only by `run`, on its caller's thread; the rest is constant.
final class Lifecycle: @unchecked Sendable {
    let engine: any GenerationService
    let server: HTTPServer
    let notifier: SystemdNotifier
    let logger: Logger
    let drainTimeout: Double
    let health: Double
    private let queue = DispatchQueue(label: "kimi-serve.lifecycle")
    private var sources: [DispatchSourceSignal] = []
    private var shuttingDown = false

    init(engine: any GenerationService, server: HTTPServer, notifier: SystemdNotifier, logger: Logger, drainTimeout: Double, health: Double)
    {
        self.engine = engine
        self.server = server
        self.notifier = notifier
        self.logger = logger
        self.drainTimeout = drainTimeout
        self.health = health
    }

    func run() -> Never {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [unowned self] in signalled(number) }
            source.resume()
            sources.append(source)
        }
        if let interval = notifier.watchdogInterval {
            // Pings only while the engine shows progress (it beats after every layer), so a
            // stuck engine stops them and systemd restarts the service.
            let thread = Thread { [unowned self] in
                while true {
                    if engine.isAlive(tolerance: health) { notifier.send("WATCHDOG=1") }
                    Thread.sleep(forTimeInterval: interval)
                }
            }
            thread.name = "watchdog"
            thread.start()
        }
        while true { sleep(3600) }
    }

    private func signalled(_ number: Int32) {
        if shuttingDown {
            logger.warning("second signal: exiting now")
            LogSink.shared.flush(timeout: 0.5)
            exit(1)
        }
        shuttingDown = true
        // Drain on another thread so that a second signal is still heard here.
        Thread.detachNewThread { [self] in shutDown(number) }
    }

    private func shutDown(_ number: Int32) -> Never {
        logger.notice(
            "shutting down",
            metadata: [
                "signal": "\(number == SIGTERM ? "SIGTERM" : "SIGINT")",
                "running": "\(engine.active)", "drain_timeout_s": "\(drainTimeout)",
            ])
        notifier.send("STOPPING=1\nSTATUS=draining \(engine.active) generations")
        server.stopAccepting()
        engine.stopAccepting()
        let deadline = ProcessInfo.processInfo.systemUptime + drainTimeout
        while engine.active > 0 && ProcessInfo.processInfo.systemUptime < deadline {
            notifier.send("EXTEND_TIMEOUT_USEC=5000000")
            Thread.sleep(forTimeInterval: 0.05)
        }
        if engine.active > 0 {
            logger.notice("drain timeout: ending the remaining generations", metadata: ["running": "\(engine.active)"])
            engine.abortAll()
        }
        // Let the connections write their last events and close.
        let closeDeadline = ProcessInfo.processInfo.systemUptime + 5
        while (engine.active > 0 || server.connectionCount > 0) && ProcessInfo.processInfo.systemUptime < closeDeadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        logger.notice("stopped")
        LogSink.shared.flush()
        exit(0)
    }
}

/// Start-up progress: STATUS= lines (and EXTEND_TIMEOUT_USEC= while loading) under systemd,
/// log lines, and a progress bar on a terminal.
/// Sendable: start-up uses it from one thread (`lastPercent` is touched nowhere else).
final class LoadProgress: @unchecked Sendable {
    let notifier: SystemdNotifier
    let logger: Logger
    private let tty = isatty(2) != 0
    private var lastPercent = -1

    init(notifier: SystemdNotifier, logger: Logger) {
        self.notifier = notifier
        self.logger = logger
    }

    func status(_ text: String) {
        notifier.send("STATUS=\(text)\nEXTEND_TIMEOUT_USEC=120000000")
        logger.info("\(text)")
    }

    func progress(_ what: String, _ done: Int, _ total: Int) {
        let percent = total == 0 ? 100 : Int(Double(done) * 100 / Double(total))
        guard percent != lastPercent else { return }
        lastPercent = percent
        notifier.send("STATUS=\(what) \(percent)%\nEXTEND_TIMEOUT_USEC=120000000")
        if tty {
            let width = 40, filled = width * percent / 100
            FileHandle.standardError.write(
                Data(
                    "\r\(what) [\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(percent)%".utf8)
            )
        } else if percent % 10 == 0 {
            logger.info("\(what)", metadata: ["percent": "\(percent)"])
        }
    }

    func finishProgress() {
        if tty && lastPercent >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        lastPercent = -1
    }
}
