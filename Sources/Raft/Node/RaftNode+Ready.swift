// The Ready/advance handshake with the caller. See `Ready` for the contract.
extension RaftNode {
    /// Whether there is anything for the caller to do (persist, send, apply, or report).
    ///
    /// - Returns: true if ``ready()`` would return a non-empty `Ready`.
    public func hasReady() -> Bool {
        if softState != prevSoftState { return true }
        if hardState != prevHardState { return true }
        if !messages.isEmpty || !readStates.isEmpty { return true }
        if !raftLog.unstableEntries.isEmpty || raftLog.unstable.snapshot != nil { return true }
        return raftLog.hasNextCommittedEntries()
    }

    /// Collects the pending work. Messages and read states are moved out of the node; entries and the
    /// snapshot stay unstable until ``advance(_:)`` acknowledges them.
    ///
    /// - Returns: the work to do, in the order documented on ``Ready``.
    public func ready() -> Ready {
        var rd = Ready()
        rd.entries = raftLog.unstableEntries
        rd.snapshot = raftLog.unstable.snapshot
        rd.committedEntries = raftLog.nextCommittedEntries()
        rd.messages = messages
        messages = []
        rd.readStates = readStates
        readStates = []
        let soft = softState
        if soft != prevSoftState {
            rd.softState = soft
            prevSoftState = soft
        }
        let hard = hardState
        if hard != prevHardState {
            rd.hardState = hard
        }
        rd.mustSync = !rd.entries.isEmpty || rd.snapshot != nil
            || hard.term != prevHardState.term || hard.vote != prevHardState.vote
        return rd
    }

    /// Acknowledges that `rd` was handled: its entries, hard state and snapshot are durable, its snapshot
    /// and committed entries applied, its messages sent.
    ///
    /// - Parameter rd: the value returned by the last ``ready()``.
    public func advance(_ rd: Ready) {
        if let hard = rd.hardState {
            prevHardState = hard
        }
        if let snapshot = rd.snapshot {
            raftLog.unstable.stableSnapshotTo(index: snapshot.metadata.index)
            raftLog.appliedTo(snapshot.metadata.index)
        }
        if let last = rd.entries.last {
            raftLog.unstable.stableTo(index: last.index, term: last.term)
        }
        if let last = rd.committedEntries.last {
            raftLog.appliedTo(last.index)
        }
    }
}
