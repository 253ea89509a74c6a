// Follower behaviour (and the election timer shared with candidates): appends, heartbeats, snapshots,
// TimeoutNow and ReadIndex answers.
extension RaftNode {
    func tickElection() {
        electionElapsed += 1
        if isPromotable && electionElapsed >= randomizedElectionTimeout {
            electionElapsed = 0
            hup(transfer: false)
        }
    }

    func stepFollower(_ m: Message) {
        switch m.kind {
        case .append:
            electionElapsed = 0
            leader = m.from
            handleAppend(m)
        case .heartbeat:
            electionElapsed = 0
            leader = m.from
            handleHeartbeat(m)
        case .snapshot:
            electionElapsed = 0
            leader = m.from
            handleSnapshot(m)
        case .timeoutNow:
            // The leader asked us to take over: campaign at once, skipping pre-vote (the leader vouches).
            hup(transfer: true)
        case .readIndexResponse:
            readStates.append(ReadState(index: m.index, context: m.context))
        default:
            break
        }
    }

    /// §5.3 AppendEntries receiver: reply false if the log lacks (prevIndex, prevTerm), with a hint; else
    /// delete conflicting entries, append new ones, and advance the commit index.
    func handleAppend(_ m: Message) {
        if m.index < raftLog.committed {
            // Everything up to our commit index is known to match; tell the leader where we are.
            send(Message(kind: .appendResponse, to: m.from, index: raftLog.committed))
            return
        }
        if let lastNew = raftLog.maybeAppend(index: m.index, logTerm: m.logTerm, leaderCommit: m.commit,
                                             entries: m.entries) {
            send(Message(kind: .appendResponse, to: m.from, index: lastNew))
            return
        }
        // Hint: the last index at or below the probe whose term is not greater than the leader's entry
        // there. Entries after it cannot match, whatever the leader has.
        let hintIndex = raftLog.findConflictByTerm(index: min(m.index, raftLog.lastIndex()), term: m.logTerm)
        let hintTerm = raftLog.term(hintIndex) ?? 0
        send(Message(kind: .appendResponse, to: m.from, logTerm: hintTerm, index: m.index, reject: true,
                     rejectHint: hintIndex))
    }

    func handleHeartbeat(_ m: Message) {
        raftLog.commitTo(min(m.commit, raftLog.lastIndex()))
        send(Message(kind: .heartbeatResponse, to: m.from, context: m.context))
    }

    func handleSnapshot(_ m: Message) {
        guard let snapshot = m.snapshot else { return }
        if restore(snapshot) {
            send(Message(kind: .appendResponse, to: m.from, index: raftLog.lastIndex()))
        } else {
            send(Message(kind: .appendResponse, to: m.from, index: raftLog.committed))
        }
    }

    /// Installs `snapshot` unless we already have what it covers. Returns whether it was installed.
    func restore(_ snapshot: Snapshot) -> Bool {
        let meta = snapshot.metadata
        if meta.index <= raftLog.committed { return false }
        if raftLog.matchTerm(meta.index, meta.term) {
            // We have the entry the snapshot ends with, hence the whole prefix: just commit it.
            raftLog.commitTo(meta.index)
            return false
        }
        raftLog.restore(snapshot)
        tracker.setConfState(meta.confState, lastIndex: raftLog.lastIndex())
        return true
    }
}
