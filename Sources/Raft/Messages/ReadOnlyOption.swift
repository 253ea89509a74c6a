/// How a ReadIndex request confirms leadership.
public enum ReadOnlyOption: UInt8 {
    /// Confirm with a heartbeat round to a quorum (thesis §6.4). Always linearizable.
    case safe
    /// Trust the leader lease (thesis §6.4.1): answer at once, without a round trip.
    ///
    /// Correct only if clocks on the nodes advance at rates that differ by less than the margin between
    /// a leader's lease and the followers' election timeout. Here the lease is implicit: with check-quorum
    /// a leader steps down after `electionTick` ticks without hearing from a quorum, and a follower that
    /// heard from the leader within `electionTick` ticks refuses to vote. If one node's ticks ran much
    /// faster than another's (a paused VM, a stalled process resuming with queued ticks), a new leader
    /// could be elected while the old one still believes its lease, and a lease read could be stale.
    /// Requires `checkQuorum`.
    case leaseBased
}

// MARK: - Sendable

extension ReadOnlyOption: Sendable {}
