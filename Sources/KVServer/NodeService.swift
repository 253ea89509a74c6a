import KVProtocol

/// What a ``NodeServer`` serves: the store behind the connections.
///
/// The server parses requests and keeps each connection's answers in order; the service answers them. Reads
/// that may run at once go to ``read(_:)`` on an event loop thread; everything that must be ordered behind a
/// write goes to ``submit(_:)``.
public protocol NodeService: AnyObject, Sendable {
    /// Counters the server updates (connections, requests answered), for the service's `STATS`.
    var serverStatistics: ServerStatistics { get }

    /// Answers requests that change nothing (`GET`, `SCAN`, `STATS`, `PING`, `HELLO`) at once, from one
    /// consistent view that includes every write already acknowledged on any connection.
    ///
    /// - Parameter requests: Requests that change nothing.
    /// - Returns: One answer each, in order.
    func read(_ requests: [Request]) -> [Response]

    /// Queues requests that must run in order behind writes: writes, and reads that follow a write of the
    /// same connection. The callback gets one answer per request once every write among them is durable and
    /// visible to all later reads.
    ///
    /// - Parameter submission: The requests and their callback. After ``stop()`` the callback gets
    ///   `ERR SHUTTING_DOWN` answers.
    func submit(_ submission: WriteSubmission)

    /// Finishes the queued work and stops taking more. Idempotent; returns when done.
    func stop()

    /// Whether `GET` and `SCAN` must go through ``submit(_:)`` too (a replicated store confirms leadership
    /// before it reads); false by default.
    var readsNeedConsensus: Bool { get }
}

extension NodeService {
    public var readsNeedConsensus: Bool { false }
}
