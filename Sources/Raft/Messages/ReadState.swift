/// The answer to a ``RaftNode/readIndex(context:)`` request.
///
/// Once the caller's state machine has applied `index`, a read that started before the request was made
/// can be served from local state and is linearizable.
public struct ReadState {
    /// Commit index at the time the leader confirmed its leadership.
    public var index: UInt64
    /// The context passed to ``RaftNode/readIndex(context:)``, identifying the request.
    public var context: [UInt8]

    /// Creates a read state.
    ///
    /// - Parameters:
    ///   - index: the read index.
    ///   - context: the request's context.
    public init(index: UInt64, context: [UInt8]) {
        self.index = index
        self.context = context
    }
}

// MARK: - Equatable

extension ReadState: Equatable {}

// MARK: - Sendable

extension ReadState: Sendable {}
