/// How a leader is currently replicating to one follower.
public enum ProgressState: UInt8 {
    /// The follower's log position is unknown: send one append per heartbeat/response until it matches.
    case probe
    /// The follower is known to match: stream appends optimistically, up to the in-flight limit.
    case replicate
    /// The follower needs a snapshot, which is in flight; send nothing else.
    case snapshot
}

// MARK: - Sendable

extension ProgressState: Sendable {}
