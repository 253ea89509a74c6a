/// Errors the Raft library reports. New cases may be added, so switch with a default.
public struct RaftError: Error {
    private enum Code: Equatable {
        case notLeader
        case leaderTransferInProgress
        case confChangePending
        case invalidConfChange
        case compacted
        case unavailable
        case snapshotTemporarilyUnavailable
        case invalidConfig(String)
        case malformedConfChange
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// A proposal or read was made on a node that is not the leader (or knows no leader); retry on the leader.
    public static let notLeader = RaftError(.notLeader)
    /// The leader is transferring leadership and refuses proposals until the transfer ends.
    public static let leaderTransferInProgress = RaftError(.leaderTransferInProgress)
    /// A configuration change is proposed but not yet applied; only one may be pending.
    public static let confChangePending = RaftError(.confChangePending)
    /// The change adds an existing voter or removes a non-voter.
    public static let invalidConfChange = RaftError(.invalidConfChange)
    /// Storage: the requested index is below the first available index (compacted into a snapshot).
    public static let compacted = RaftError(.compacted)
    /// Storage: the requested index is beyond the last index.
    public static let unavailable = RaftError(.unavailable)
    /// Storage: a snapshot is being generated; Raft will try again later.
    public static let snapshotTemporarilyUnavailable = RaftError(.snapshotTemporarilyUnavailable)
    /// Entry data is not a valid encoded ``ConfChange``.
    public static let malformedConfChange = RaftError(.malformedConfChange)

    /// The configuration is invalid.
    ///
    /// - Parameter reason: which rule was broken.
    /// - Returns: the error.
    public static func invalidConfig(_ reason: String) -> RaftError {
        RaftError(.invalidConfig(reason))
    }
}

// MARK: - Equatable

extension RaftError: Equatable {}

// MARK: - Sendable

extension RaftError: Sendable {}

// MARK: - CustomStringConvertible

extension RaftError: CustomStringConvertible {
    /// A human-readable description.
    public var description: String {
        switch code {
        case .notLeader: return "not leader"
        case .leaderTransferInProgress: return "leader transfer in progress"
        case .confChangePending: return "a configuration change is already pending"
        case .invalidConfChange: return "invalid configuration change"
        case .compacted: return "requested index is compacted"
        case .unavailable: return "requested index is unavailable"
        case .snapshotTemporarilyUnavailable: return "snapshot temporarily unavailable"
        case .invalidConfig(let reason): return "invalid config: \(reason)"
        case .malformedConfChange: return "malformed configuration change"
        }
    }
}
