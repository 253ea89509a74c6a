#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-exact, buffered writes to stdout and unbuffered writes to stderr for command-line tools.
///
/// stdout is buffered here (not through stdio) and flushed when the buffer fills, on ``flush()``, and before
/// anything goes to stderr, so the two streams interleave as written. Used from one thread at a time.
public enum StandardStreams {
    // A tool writes its output from one thread; the buffer is its private state.
    nonisolated(unsafe) private static var pending: [UInt8] = []
    private static let flushThreshold = 64 * 1024

    /// Queues bytes for stdout.
    public static func write(_ bytes: some Collection<UInt8>) {
        pending.append(contentsOf: bytes)
        if pending.count >= flushThreshold { flush() }
    }

    /// Queues a line for stdout.
    public static func writeLine(_ text: String) {
        write(Array(text.utf8))
        pending.append(0x0A)
        if pending.count >= flushThreshold { flush() }
    }

    /// Writes a line to stderr at once (after flushing stdout).
    public static func error(_ text: String) {
        flush()
        writeAll(2, Array((text + "\n").utf8))
    }

    /// Writes the queued stdout bytes.
    public static func flush() {
        guard !pending.isEmpty else { return }
        writeAll(1, pending)
        pending.removeAll(keepingCapacity: true)
    }

    /// Reads all of stdin.
    public static func readAllInput() -> [UInt8] {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = read(0, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            data.append(contentsOf: chunk[..<count])
        }
        return data
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(descriptor, raw.baseAddress! + offset, bytes.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return  // stdout closed (e.g. `| head`): nothing more to do
            }
            offset += written
        }
    }
}
