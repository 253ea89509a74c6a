/// The part of a node's state that must be durable before any message produced with it is sent.
///
/// Persist it whenever ``Ready/hardState`` is non-nil. On restart, ``Storage/initialState()`` returns it.
public struct HardState {
    /// Latest term the node has seen.
    public var term: UInt64
    /// Candidate voted for in `term`, or 0.
    public var vote: UInt64
    /// Highest index known to be committed.
    public var commit: UInt64

    /// Creates a hard state.
    ///
    /// - Parameters:
    ///   - term: current term.
    ///   - vote: node voted for in `term` (0 for none).
    ///   - commit: commit index.
    public init(term: UInt64 = 0, vote: UInt64 = 0, commit: UInt64 = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// True for the state of a node that has never run.
    public var isEmpty: Bool { term == 0 && vote == 0 && commit == 0 }
}

// MARK: - Equatable

extension HardState: Equatable {}

// MARK: - Sendable

extension HardState: Sendable {}
