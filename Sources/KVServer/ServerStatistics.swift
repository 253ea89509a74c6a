import Synchronization

/// Counters the network front end keeps for the service behind it (which reports them in `STATS`).
public final class ServerStatistics: Sendable {
    /// Requests answered.
    public let requests = Atomic<Int>(0)
    /// Client connections open now.
    public let connections = Atomic<Int>(0)

    /// Zeroed counters.
    public init() {}
}
