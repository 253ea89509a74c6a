// Internal consistency checks for tests and the simulator.
extension RaftNode {
    /// Checks the invariants written on the node's fields.
    ///
    /// Meant for tests and the simulator (after every step); cost is linear in the unstable log.
    ///
    /// - Returns: a description of every violated invariant; empty if all hold.
    public func testOnly_checkInvariants() -> [String] {
        var problems: [String] = []
        let last = raftLog.lastIndex()
        if raftLog.applied > raftLog.committed {
            problems.append("applied \(raftLog.applied) > committed \(raftLog.committed)")
        }
        if raftLog.committed > last {
            problems.append("committed \(raftLog.committed) > lastIndex \(last)")
        }
        if raftLog.lastTerm() > term {
            problems.append("last log term \(raftLog.lastTerm()) > term \(term)")
        }
        let unstable = raftLog.unstable
        if unstable.offset > raftLog.storage.lastIndex() + 1 && unstable.snapshot == nil {
            problems.append("unstable offset \(unstable.offset) leaves a gap after storage")
        }
        var previousTerm: UInt64 = 0
        for (i, entry) in unstable.entries.enumerated() {
            if entry.index != unstable.offset + UInt64(i) {
                problems.append("unstable entry \(i) has index \(entry.index), expected \(unstable.offset + UInt64(i))")
            }
            if entry.term < previousTerm {
                problems.append("unstable entry \(entry.index) term \(entry.term) < previous \(previousTerm)")
            }
            previousTerm = entry.term
        }
        switch role {
        case .leader:
            if leader != id { problems.append("leader field \(leader) on leader \(id)") }
            if vote != id { problems.append("leader \(id) voted for \(vote)") }
            for peer in tracker.voters {
                guard let pr = tracker.progress[peer] else {
                    problems.append("voter \(peer) has no progress")
                    continue
                }
                if pr.match >= pr.next { problems.append("progress \(peer): match \(pr.match) >= next \(pr.next)") }
                if pr.match > last { problems.append("progress \(peer): match \(pr.match) > lastIndex \(last)") }
            }
            if let own = tracker.progress[id], own.match != last {
                problems.append("leader's own match \(own.match) != lastIndex \(last)")
            }
        case .candidate:
            if vote != id { problems.append("candidate \(id) voted for \(vote)") }
            if leadTransferee != 0 { problems.append("non-leader has a transferee") }
        case .follower, .preCandidate:
            if leadTransferee != 0 { problems.append("non-leader has a transferee") }
        }
        if Set(tracker.progress.keys) != Set(tracker.voters) {
            problems.append("progress keys differ from voters")
        }
        return problems
    }
}
