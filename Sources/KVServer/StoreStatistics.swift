import Synchronization

/// Counters of a running node, read by `STATS`.
public final class StoreStatistics: Sendable {
    /// Requests answered.
    public let requests = Atomic<Int>(0)
    /// Write requests made durable.
    public let writes = Atomic<Int>(0)
    /// Write transactions committed (each one `fsync`).
    public let commits = Atomic<Int>(0)
    /// Client connections open now.
    public let connections = Atomic<Int>(0)

    /// Zeroed counters.
    public init() {}
}
