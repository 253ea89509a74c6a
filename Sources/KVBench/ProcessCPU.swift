#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// CPU time (user plus system) used by this process or by another one, to show which side of a benchmark
/// was busy.
public enum ProcessCPU {
    /// CPU seconds this process has used so far, all threads included (`getrusage(RUSAGE_SELF)`).
    public static func ownSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// CPU seconds process `pid` has used so far, from fields 14 and 15 (utime, stime) of `/proc/PID/stat`.
    ///
    /// - Parameter pid: The process.
    /// - Returns: The seconds, or `nil` when the file cannot be read (no such process, not Linux).
    public static func seconds(ofProcess pid: Int32) -> Double? {
        guard let text = readSmallFile("/proc/\(pid)/stat") else { return nil }
        return secondsFromStat(text, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Parses utime plus stime out of a `/proc/PID/stat` line.
    ///
    /// The second field, the command name in parentheses, may hold spaces, so fields are counted after its
    /// closing parenthesis.
    ///
    /// - Parameters:
    ///   - stat: The line.
    ///   - ticksPerSecond: `sysconf(_SC_CLK_TCK)`.
    /// - Returns: The seconds, or `nil` when the line is malformed.
    public static func secondsFromStat(_ stat: String, ticksPerSecond: Double) -> Double? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the name: field 3 (state) is index 0, so utime (14) is index 11 and stime (15) index 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]), ticksPerSecond > 0
        else { return nil }
        return (user + system) / ticksPerSecond
    }

    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = read(descriptor, &bytes, bytes.count)
        guard count > 0 else { return nil }
        return String(decoding: bytes[..<count], as: UTF8.self)
    }
}
