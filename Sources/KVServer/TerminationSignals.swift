import Dispatch
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGTERM and SIGINT turned into a clean shutdown: the servers' processes install it once, run their
/// shutdown in `onSignal`, and wait in ``wait()`` until a signal (or ``stop()``) ends them.
public final class TerminationSignals: @unchecked Sendable {
    private let stopped = DispatchSemaphore(value: 0)
    /// Kept alive for as long as the process runs; set once in `init`.
    private var sources: [any DispatchSourceSignal] = []

    /// Ignores the default actions of SIGTERM and SIGINT and calls `onSignal` (once per signal received, on
    /// a global queue) before releasing ``wait()``.
    ///
    /// - Parameters:
    ///   - logger: Where the signal is logged.
    ///   - onSignal: The shutdown to run, e.g. `server.shutdown()`.
    public init(logger: Logger, onSignal: @escaping @Sendable () -> Void) {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [stopped] in
                logger.info("signal \(signalNumber): shutting down")
                onSignal()
                stopped.signal()
            }
            source.resume()
            sources.append(source)
        }
    }

    /// Releases ``wait()`` without a signal (e.g. after a storage failure, once the caller shut down).
    public func stop() {
        stopped.signal()
    }

    /// Blocks until a signal was handled or ``stop()`` was called.
    public func wait() {
        stopped.wait()
    }
}
