/// The leader's view of one follower (§5.3 `nextIndex`/`matchIndex`, plus flow-control state).
public struct Progress {
    /// Highest index known to be replicated on the follower. Invariant: `match < next`.
    public internal(set) var match: UInt64
    /// Index of the next entry to send.
    public internal(set) var next: UInt64
    /// Replication state.
    public internal(set) var state: ProgressState
    /// In the snapshot state, the index of the snapshot being sent.
    public internal(set) var pendingSnapshot: UInt64
    /// Whether the follower was heard from since the last check-quorum round.
    public internal(set) var recentActive: Bool
    /// In the probe state: a probe was sent and no answer came yet, so wait.
    public internal(set) var probeSent: Bool
    var inflights: Inflights

    /// Number of append messages in flight (replicate state).
    public var inflightCount: Int { inflights.count }

    init(next: UInt64, maxInflight: Int) {
        match = 0
        self.next = next
        state = .probe
        pendingSnapshot = 0
        recentActive = false
        probeSent = false
        inflights = Inflights(capacity: maxInflight)
    }

    /// Whether the leader should hold off sending appends.
    public var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    private mutating func reset(to newState: ProgressState) {
        probeSent = false
        pendingSnapshot = 0
        state = newState
        inflights.reset()
    }

    mutating func becomeProbe() {
        if state == .snapshot {
            // The snapshot (if it arrived) moved the follower to at least pendingSnapshot.
            let pending = pendingSnapshot
            reset(to: .probe)
            next = max(match + 1, pending + 1)
        } else {
            reset(to: .probe)
            next = match + 1
        }
    }

    mutating func becomeReplicate() {
        reset(to: .replicate)
        next = match + 1
    }

    mutating func becomeSnapshot(index: UInt64) {
        reset(to: .snapshot)
        pendingSnapshot = index
    }

    /// The follower acknowledged `index`. Returns whether `match` grew (stale acks return false).
    mutating func maybeUpdate(_ index: UInt64) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index + 1)
        return updated
    }

    /// Entries up to `index` were sent optimistically.
    mutating func optimisticUpdate(_ index: UInt64) {
        next = index + 1
    }

    /// The follower rejected an append at `rejected`, hinting that it may match up to `matchHint`. Returns
    /// false if the rejection is stale (answers an older message) and should be ignored.
    mutating func maybeDecrTo(rejected: UInt64, matchHint: UInt64) -> Bool {
        if state == .replicate {
            if rejected <= match { return false }
            next = match + 1
            return true
        }
        if next - 1 != rejected { return false }
        next = max(min(rejected, matchHint + 1), match + 1)
        probeSent = false
        return true
    }
}

// MARK: - Equatable

extension Progress: Equatable {}

// MARK: - Sendable

extension Progress: Sendable {}
