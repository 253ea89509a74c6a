import KVProtocol

/// Requests of one connection that must run in the write path, in order, and the callback that gets their
/// answers once the writes among them are durable and applied.
///
/// A submission holds every write a connection sent in one read burst, plus any reads that arrived after
/// those writes (so each connection reads its own writes, and answers stay in request order).
public struct WriteSubmission: Sendable {
    /// The requests, in arrival order.
    public var requests: [Request]
    /// Called with one answer per request, once they are done (or failed), on whichever thread did the work.
    public var complete: @Sendable ([Response]) -> Void
    /// Runs work later on the submitter's thread, after what that thread is doing now (an event loop's
    /// `execute`), so the service can gather the writes of one event-loop turn and handle them in one go on
    /// that thread; nil leaves the work to the service's own thread.
    public var scheduleOnSubmitter: (@Sendable (@escaping @Sendable () -> Void) -> Void)?
    /// Runs work later on the one event loop that all connections share for writes while the service is busy,
    /// so that writes read by every loop during one round join the next round together; nil for none.
    public var scheduleOnWriteLoop: (@Sendable (@escaping @Sendable () -> Void) -> Void)?

    /// Creates a submission.
    ///
    /// - Parameters:
    ///   - requests: The requests, in order.
    ///   - scheduleOnSubmitter: How to run follow-up work on the submitter's thread, or nil.
    ///   - scheduleOnWriteLoop: How to run it on the shared write loop, or nil.
    ///   - complete: Gets the answers.
    public init(
        requests: [Request], scheduleOnSubmitter: (@Sendable (@escaping @Sendable () -> Void) -> Void)? = nil,
        scheduleOnWriteLoop: (@Sendable (@escaping @Sendable () -> Void) -> Void)? = nil,
        complete: @escaping @Sendable ([Response]) -> Void
    ) {
        self.requests = requests
        self.scheduleOnSubmitter = scheduleOnSubmitter
        self.scheduleOnWriteLoop = scheduleOnWriteLoop
        self.complete = complete
    }
}
