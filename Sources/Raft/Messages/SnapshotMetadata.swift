/// Where a snapshot sits in the log and which configuration it carries.
public struct SnapshotMetadata {
    /// Index of the last entry the snapshot covers.
    public var index: UInt64
    /// Term of that entry.
    public var term: UInt64
    /// Membership as of `index`.
    public var confState: ConfState

    /// Creates snapshot metadata.
    ///
    /// - Parameters:
    ///   - index: last covered index.
    ///   - term: its term.
    ///   - confState: membership at that index.
    public init(index: UInt64 = 0, term: UInt64 = 0, confState: ConfState = ConfState()) {
        self.index = index
        self.term = term
        self.confState = confState
    }
}

// MARK: - Equatable

extension SnapshotMetadata: Equatable {}

// MARK: - Sendable

extension SnapshotMetadata: Sendable {}
