/// What a log entry carries.
public enum EntryKind: UInt8 {
    /// Application data (or the empty entry a new leader appends to commit its term).
    case normal = 0
    /// An encoded ``ConfChange``; the caller decodes it and passes it to ``RaftNode/applyConfChange(_:)``.
    case confChange = 1
}

// MARK: - Sendable

extension EntryKind: Sendable {}
