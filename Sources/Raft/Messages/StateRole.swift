/// The role a node currently plays.
public enum StateRole: UInt8 {
    /// Follows a leader (or waits for one).
    case follower
    /// Asking for pre-votes without having bumped its term (thesis §9.6).
    case preCandidate
    /// Asking for votes in a new term.
    case candidate
    /// Leader of the current term.
    case leader
}

// MARK: - Sendable

extension StateRole: Sendable {}
