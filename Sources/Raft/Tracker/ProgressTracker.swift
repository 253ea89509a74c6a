/// The membership plus, on a leader, one ``Progress`` per voter, and the votes of an election.
struct ProgressTracker {
    /// Current membership. Voter ids are kept sorted so every iteration is deterministic.
    private(set) var confState: ConfState
    /// One entry per voter (including this node). Invariant: keys == voters.
    var progress: [UInt64: Progress]
    /// Votes received in the current election.
    private(set) var votes: [UInt64: Bool]
    let maxInflight: Int

    init(confState: ConfState, maxInflight: Int) {
        self.confState = confState
        self.maxInflight = maxInflight
        progress = [:]
        votes = [:]
        for id in confState.voters {
            progress[id] = Progress(next: 1, maxInflight: maxInflight)
        }
    }

    var voters: [UInt64] { confState.voters }

    func isVoter(_ id: UInt64) -> Bool {
        confState.contains(id)
    }

    /// The index replicated on a quorum.
    func committed() -> UInt64 {
        Quorum.committedIndex(voters: voters) { progress[$0]?.match ?? 0 }
    }

    mutating func resetVotes() {
        votes = [:]
    }

    /// Records a vote; only the first answer of each voter counts.
    mutating func recordVote(from id: UInt64, granted: Bool) {
        if votes[id] == nil {
            votes[id] = granted
        }
    }

    func voteResult() -> VoteResult {
        Quorum.voteResult(voters: voters, votes: votes)
    }

    /// Whether a quorum (counting `selfID` as active) was heard from recently.
    func quorumActive(selfID: UInt64) -> Bool {
        var active: [UInt64: Bool] = [:]
        for id in voters {
            active[id] = id == selfID || (progress[id]?.recentActive ?? false)
        }
        return Quorum.voteResult(voters: voters, votes: active) == .won
    }

    /// Resets every progress for a new term (`next = lastIndex + 1`, `match = 0`, this node matching).
    mutating func resetProgress(lastIndex: UInt64, selfID: UInt64) {
        for id in voters {
            var pr = Progress(next: lastIndex + 1, maxInflight: maxInflight)
            if id == selfID {
                pr.match = lastIndex
                pr.recentActive = true
            }
            progress[id] = pr
        }
    }

    /// Replaces the membership (snapshot restore), keeping no progress.
    mutating func setConfState(_ conf: ConfState, lastIndex: UInt64) {
        confState = conf
        progress = [:]
        votes = [:]
        for id in conf.voters {
            progress[id] = Progress(next: lastIndex + 1, maxInflight: maxInflight)
        }
    }

    /// Adds a voter. A new voter starts active so that check-quorum does not count it as lost before the
    /// leader has had a chance to reach it.
    mutating func addVoter(_ id: UInt64, lastIndex: UInt64) {
        guard !isVoter(id) else { return }
        confState.insert(id)
        var pr = Progress(next: lastIndex + 1, maxInflight: maxInflight)
        pr.recentActive = true
        progress[id] = pr
    }

    mutating func removeVoter(_ id: UInt64) {
        confState.remove(id)
        progress[id] = nil
        votes[id] = nil
    }
}
