#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the scheduler reads time: wall-clock milliseconds for timestamps, monotonic milliseconds for
/// heartbeat ages and timeouts. Tests drive a manual clock.
public struct SchedulerClock: Sendable {
    /// Milliseconds since the Unix epoch.
    public var wallMilliseconds: @Sendable () -> UInt64
    /// Milliseconds from an arbitrary start, never going back.
    public var monotonicMilliseconds: @Sendable () -> UInt64

    /// Creates a clock from two readers.
    public init(wallMilliseconds: @escaping @Sendable () -> UInt64, monotonicMilliseconds: @escaping @Sendable () -> UInt64) {
        self.wallMilliseconds = wallMilliseconds
        self.monotonicMilliseconds = monotonicMilliseconds
    }

    /// The system's clocks.
    public static let system = SchedulerClock(
        wallMilliseconds: {
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        },
        monotonicMilliseconds: {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
        })
}
