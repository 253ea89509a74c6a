// Pre-candidate and candidate behaviour: counting votes (§5.2) and yielding to a leader of our term.
extension RaftNode {
    func stepCandidate(_ m: Message) {
        // Only answers to our own kind of request count: a stale pre-vote answer must not count as a vote.
        let expected: MessageKind = role == .preCandidate ? .requestPreVoteResponse : .requestVoteResponse
        switch m.kind {
        case .append:
            // §5.2: "If the AppendEntries RPC is from another server claiming to be leader whose term is at
            // least as large as the candidate's current term, the candidate recognizes the leader".
            becomeFollower(term: m.term, leader: m.from)
            handleAppend(m)
        case .heartbeat:
            becomeFollower(term: m.term, leader: m.from)
            handleHeartbeat(m)
        case .snapshot:
            becomeFollower(term: m.term, leader: m.from)
            handleSnapshot(m)
        case expected:
            switch poll(from: m.from, granted: !m.reject) {
            case .won:
                if role == .preCandidate {
                    startCampaign(preVote: false, transfer: false)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, leader: 0)
            case .pending:
                break
            }
        default:
            break
        }
    }
}
