/// A point-in-time image of the state machine replacing a log prefix.
public struct Snapshot {
    /// Position and membership.
    public var metadata: SnapshotMetadata
    /// The application's serialized state machine; opaque to Raft.
    public var data: [UInt8]

    /// Creates a snapshot.
    ///
    /// - Parameters:
    ///   - metadata: position and membership.
    ///   - data: serialized state machine.
    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    /// True for the placeholder snapshot at index 0.
    public var isEmpty: Bool { metadata.index == 0 }
}

// MARK: - Equatable

extension Snapshot: Equatable {}

// MARK: - Sendable

extension Snapshot: Sendable {}
