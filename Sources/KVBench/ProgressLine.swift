#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The live progress line on stderr (elapsed time, operations so far, current rate), rewritten in place about
/// once a second; only shown when stderr is a terminal, so logs and pipes stay clean.
public final class ProgressLine {
    private var lastUpdate: UInt64 = 0
    private var lastOperations = 0
    private var shown = false

    /// A progress line if stderr is a terminal, else `nil`.
    public static func forTerminal() -> ProgressLine? {
        isatty(2) != 0 ? ProgressLine() : nil
    }

    private init() {}

    /// Starts the rate clock.
    func begin() {
        lastUpdate = MonotonicClock.now()
        lastOperations = 0
    }

    /// Rewrites the line if a second passed since the last time.
    func update(elapsed: Double, warmingUp: Bool, operations: Int, errors: Int) {
        let now = MonotonicClock.now()
        guard now - lastUpdate >= 1_000_000_000 else { return }
        let rate = Double(operations - lastOperations) / (Double(now - lastUpdate) / 1e9)
        lastUpdate = now
        lastOperations = operations
        let phase = warmingUp ? " (warmup)" : ""
        let text = "\r\u{1B}[K\(Format.fixed(elapsed, 1)) s\(phase): \(operations) ops, \(Int(rate.rounded())) ops/s now"
            + (errors > 0 ? ", \(errors) errors" : "")
        write(text)
        shown = true
    }

    /// Clears the line.
    func end() {
        if shown { write("\r\u{1B}[K") }
    }

    private func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
