#if canImport(Glibc)
import Glibc

/// Prints the seeds being simulated if the process dies on a trap (a failed `precondition` in the library
/// surfaces as SIGILL/SIGTRAP, which ends the whole test process before any test can report). The
/// previously installed handler (Swift's backtracer) runs afterwards.
enum CrashReporter {
    /// The seed each shard is running, or `UInt64.max`. Written by one test each, read only when crashing.
    nonisolated(unsafe) static var running = [UInt64](repeating: .max, count: 16)
    nonisolated(unsafe) static var previous: [Int32: sigaction] = [:]

    static let install: Void = {
        for signalNumber in [SIGILL, SIGTRAP, SIGSEGV, SIGABRT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signalNumber in
                var text = "\nsimulator crashed while running:"
                for seed in CrashReporter.running where seed != .max {
                    text += " RAFT_SEED=\(seed)"
                }
                text += "\n"
                _ = text.withCString { write(2, $0, strlen($0)) }
                // Hand over to the previous handler: returning re-executes the trapping instruction.
                if var old = CrashReporter.previous[signalNumber] {
                    sigaction(signalNumber, &old, nil)
                } else {
                    signal(signalNumber, SIG_DFL)
                }
            }
            var old = sigaction()
            sigaction(signalNumber, &action, &old)
            previous[signalNumber] = old
        }
    }()
}
#else
enum CrashReporter {
    nonisolated(unsafe) static var running = [UInt64](repeating: .max, count: 16)
    static let install: Void = ()
}
#endif
