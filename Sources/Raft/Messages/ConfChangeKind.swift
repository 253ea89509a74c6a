/// The kind of a single-step membership change.
public enum ConfChangeKind: UInt8 {
    /// Add a voter.
    case addNode = 1
    /// Remove a voter.
    case removeNode = 2
}

// MARK: - Sendable

extension ConfChangeKind: Sendable {}
