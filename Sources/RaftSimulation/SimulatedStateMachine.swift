import Raft

/// The application state machine of a simulated node: a hash chain over every applied entry, so two nodes
/// that applied the same entries in the same order have the same state, and any divergence shows.
public struct SimulatedStateMachine {
    /// Last applied index.
    public private(set) var applied: UInt64
    /// Hash of everything applied so far.
    public private(set) var hash: UInt64
    /// Membership as of `applied`.
    public var confState: ConfState

    /// Restores from a snapshot (or the bootstrap placeholder).
    ///
    /// - Parameter snapshot: the snapshot.
    public init(snapshot: Snapshot) {
        applied = snapshot.metadata.index
        hash = Self.decodeHash(snapshot.data)
        confState = snapshot.metadata.confState
    }

    /// Applies one entry.
    ///
    /// - Parameter entry: the next entry.
    public mutating func apply(_ entry: Entry) {
        var h = TraceHasher()
        h.mix(hash)
        h.mix(entry.index)
        h.mix(entry.term)
        h.mix(UInt64(entry.kind.rawValue))
        h.mix(bytes: entry.data)
        hash = h.value
        applied = entry.index
    }

    /// The snapshot payload: the hash, big-endian.
    public var snapshotData: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: hash >> UInt64(56 - 8 * $0)) }
    }

    static func decodeHash(_ data: [UInt8]) -> UInt64 {
        guard data.count == 8 else { return 0 }
        return data.reduce(0) { $0 << 8 | UInt64($1) }
    }
}

// MARK: - Equatable

extension SimulatedStateMachine: Equatable {}

// MARK: - Sendable

extension SimulatedStateMachine: Sendable {}
