// The leader's tick and step behaviour: replication, commit, heartbeats, check-quorum, ReadIndex and
// leader transfer.
extension RaftNode {
    func tickLeader() {
        heartbeatElapsed += 1
        electionElapsed += 1
        if electionElapsed >= config.electionTick {
            electionElapsed = 0
            if config.checkQuorum {
                // Check-quorum: a leader cut off from a majority steps down instead of serving stale reads
                // and accepting proposals that cannot commit.
                if !tracker.quorumActive(selfID: id) {
                    becomeFollower(term: term, leader: 0)
                    return
                }
                for peer in tracker.voters where peer != id {
                    tracker.progress[peer]?.recentActive = false
                }
            }
            // A transfer that did not finish within an election timeout has failed; accept proposals again.
            abortLeaderTransfer()
        }
        if heartbeatElapsed >= config.heartbeatTick {
            heartbeatElapsed = 0
            broadcastHeartbeat(context: readOnly.lastContext ?? [])
        }
    }

    func stepLeader(_ m: Message) {
        switch m.kind {
        case .appendResponse:
            handleAppendResponse(m)
        case .heartbeatResponse:
            handleHeartbeatResponse(m)
        case .readIndex:
            guard tracker.isVoter(m.from) else { return }
            handleReadIndexRequest(from: m.from, context: m.context)
        default:
            // Votes were settled in step(_:); other kinds (appends of our own term) cannot come from a peer
            // of the same term.
            break
        }
    }

    /// Appends entries of this term to the leader's log; the leader's own match advances at once. This is
    /// safe although they are not yet durable: nobody learns they are committed before the Ready that
    /// persists them has been handled.
    func appendEntries(_ newEntries: [Entry]) {
        var last = raftLog.lastIndex()
        var entries = newEntries
        for i in entries.indices {
            last += 1
            entries[i].term = term
            entries[i].index = last
        }
        raftLog.append(entries)
        _ = tracker.progress[id]?.maybeUpdate(raftLog.lastIndex())
        _ = maybeCommit()
    }

    /// Advances the commit index to what a quorum has, under the Figure 8 rule.
    func maybeCommit() -> Bool {
        let committed = raftLog.maybeCommit(index: tracker.committed(), term: term)
        if committed { releasePendingReadRequests() }
        return committed
    }

    /// Whether the entries committed after `index` include this leader's latest membership change (just
    /// elected, `pendingConfIndex` is the last entry of earlier terms, which may hold one).
    private func committedMembershipChange(after index: UInt64) -> Bool {
        index < pendingConfIndex && pendingConfIndex <= raftLog.committed
    }

    func broadcastAppend() {
        for peer in tracker.voters where peer != id {
            sendAppend(to: peer)
        }
    }

    /// Sends `to` the entries it lacks (or a snapshot if they are compacted), subject to flow control.
    ///
    /// - Parameter sendIfEmpty: send even with no new entries (to carry the commit index, or as a probe).
    /// - Returns: whether a message was sent.
    @discardableResult
    func sendAppend(to peer: UInt64, sendIfEmpty: Bool = true) -> Bool {
        guard var pr = tracker.progress[peer], !pr.isPaused else { return false }
        let prevIndex = pr.next - 1
        let prevTerm = raftLog.term(prevIndex)
        let entries = raftLog.entries(from: pr.next, maxSize: config.maxSizePerMessage)
        if let prevTerm, let entries {
            if entries.isEmpty && !sendIfEmpty { return false }
            send(Message(kind: .append, to: peer, logTerm: prevTerm, index: prevIndex, entries: entries,
                         commit: raftLog.committed))
            if let last = entries.last?.index {
                switch pr.state {
                case .replicate:
                    pr.optimisticUpdate(last)
                    pr.inflights.add(last)
                case .probe:
                    pr.probeSent = true
                case .snapshot:
                    preconditionFailure("sending entries in snapshot state")
                }
            } else if pr.state == .probe {
                pr.probeSent = true
            }
            tracker.progress[peer] = pr
            return true
        }
        // The entries the follower needs were compacted: send the snapshot instead, but only to a follower
        // we heard from recently, as snapshots are expensive.
        guard pr.recentActive, let snapshot = try? raftLog.snapshot(), !snapshot.isEmpty else { return false }
        pr.becomeSnapshot(index: snapshot.metadata.index)
        tracker.progress[peer] = pr
        send(Message(kind: .snapshot, to: peer, snapshot: snapshot))
        return true
    }

    func sendHeartbeat(to peer: UInt64, context: [UInt8]) {
        // A follower may not have the leader's committed entries yet; cap the commit at what it has.
        let commit = min(tracker.progress[peer]?.match ?? 0, raftLog.committed)
        send(Message(kind: .heartbeat, to: peer, commit: commit, context: context))
    }

    func broadcastHeartbeat(context: [UInt8]) {
        for peer in tracker.voters where peer != id {
            sendHeartbeat(to: peer, context: context)
        }
    }

    func handleAppendResponse(_ m: Message) {
        guard var pr = tracker.progress[m.from] else { return }
        pr.recentActive = true
        if m.reject {
            // Fast back-off (§5.3, thesis §3.5 optimisation): the follower told us the term of its entry at
            // rejectHint; skip every entry of ours after the last one with that term or lower. A follower
            // far behind is found in one round trip per term instead of per entry.
            var nextProbe = m.rejectHint
            if m.logTerm > 0 {
                nextProbe = raftLog.findConflictByTerm(index: m.rejectHint, term: m.logTerm)
            }
            if pr.maybeDecrTo(rejected: m.index, matchHint: nextProbe) {
                if pr.state == .replicate { pr.becomeProbe() }
                tracker.progress[m.from] = pr
                sendAppend(to: m.from)
            } else {
                tracker.progress[m.from] = pr
            }
            return
        }
        let wasPaused = pr.isPaused
        let updated = pr.maybeUpdate(m.index)
        if updated || (pr.match == m.index && pr.state == .probe) {
            switch pr.state {
            case .probe:
                pr.becomeReplicate()
            case .snapshot where pr.match + 1 >= raftLog.firstIndex():
                // The follower caught up past our compaction point: resume normal replication.
                pr.becomeProbe()
                pr.becomeReplicate()
            case .snapshot:
                break
            case .replicate:
                pr.inflights.freeLE(m.index)
            }
            tracker.progress[m.from] = pr
            let committedBefore = raftLog.committed
            if maybeCommit() && (config.broadcastsCommit || committedMembershipChange(after: committedBefore)) {
                broadcastAppend()
            } else if wasPaused {
                sendAppend(to: m.from)
            }
            // Stream what is left, as far as flow control allows.
            while sendAppend(to: m.from, sendIfEmpty: false) {}
            if m.from == leadTransferee && tracker.progress[m.from]?.match == raftLog.lastIndex() {
                send(Message(kind: .timeoutNow, to: m.from))
            }
        } else {
            tracker.progress[m.from] = pr
        }
    }

    func handleHeartbeatResponse(_ m: Message) {
        guard var pr = tracker.progress[m.from] else { return }
        pr.recentActive = true
        pr.probeSent = false
        // Acks for full inflights may have been lost; free one so replication cannot stall forever.
        if pr.state == .replicate && pr.inflights.isFull { pr.inflights.freeFirst() }
        tracker.progress[m.from] = pr
        if pr.match < raftLog.lastIndex() {
            sendAppend(to: m.from)
        }
        guard config.readOnlyOption == .safe, !m.context.isEmpty,
              let acks = readOnly.recordAck(from: m.from, context: m.context),
              Quorum.voteResult(voters: tracker.voters, votes: acks) == .won
        else { return }
        for request in readOnly.release(through: m.context) {
            answerReadIndex(from: request.from, index: request.index, context: request.context)
        }
    }

    /// Thesis §6.4: record the commit index, then confirm we are still leader (a heartbeat quorum) before
    /// answering; the answer is safe once the state machine reaches that index.
    func handleReadIndexRequest(from requester: UInt64, context: [UInt8]) {
        guard raftLog.term(raftLog.committed) == term else {
            // Until an entry of our term is committed our commit index may lag the previous leader's.
            pendingReadRequests.append((requester, context))
            return
        }
        if tracker.voters == [id] {
            answerReadIndex(from: requester, index: raftLog.committed, context: context)
            return
        }
        switch config.readOnlyOption {
        case .safe:
            readOnly.add(from: requester, index: raftLog.committed, context: context)
            _ = readOnly.recordAck(from: id, context: context)
            broadcastHeartbeat(context: context)
        case .leaseBased:
            answerReadIndex(from: requester, index: raftLog.committed, context: context)
        }
    }

    func answerReadIndex(from requester: UInt64, index: UInt64, context: [UInt8]) {
        if requester == id {
            readStates.append(ReadState(index: index, context: context))
        } else {
            send(Message(kind: .readIndexResponse, to: requester, index: index, context: context))
        }
    }

    func releasePendingReadRequests() {
        guard !pendingReadRequests.isEmpty, raftLog.term(raftLog.committed) == term else { return }
        let requests = pendingReadRequests
        pendingReadRequests = []
        for request in requests {
            handleReadIndexRequest(from: request.from, context: request.context)
        }
    }
}
