import KVProtocol

/// Requests of one connection that must run in the write path, in order, and the callback that gets their
/// answers once the transaction holding them is durable.
///
/// A submission holds every write a connection sent in one read burst, plus any reads that arrived after
/// those writes (so each connection reads its own writes, and answers stay in request order).
public struct WriteSubmission: Sendable {
    /// The requests, in arrival order.
    public var requests: [Request]
    /// Called on the store's writer thread with one answer per request, after the commit (or its failure).
    public var complete: @Sendable ([Response]) -> Void

    /// Creates a submission.
    public init(requests: [Request], complete: @escaping @Sendable ([Response]) -> Void) {
        self.requests = requests
        self.complete = complete
    }
}
