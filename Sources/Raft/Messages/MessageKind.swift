/// The kinds of messages Raft peers exchange.
public enum MessageKind: UInt8 {
    /// Leader → follower: entries to append after (`index`, `logTerm`), and the leader's commit index.
    case append = 1
    /// Follower → leader: `index` is the last matching index, or with `reject` the rejected `index` plus a
    /// conflict hint (`rejectHint`, `logTerm`).
    case appendResponse = 2
    /// Candidate → voter: vote for me in `term`; my last entry is (`index`, `logTerm`).
    case requestVote = 3
    /// Voter → candidate: `reject` false means granted.
    case requestVoteResponse = 4
    /// Pre-candidate → voter: would you vote for me in `term` (not yet adopted by anyone)?
    case requestPreVote = 5
    /// Voter → pre-candidate.
    case requestPreVoteResponse = 6
    /// Leader → follower: I am alive; `commit` is the commit index capped at your match index.
    case heartbeat = 7
    /// Follower → leader; echoes `context` so ReadIndex rounds can count acknowledgements.
    case heartbeatResponse = 8
    /// Leader → follower: install `snapshot`.
    case snapshot = 9
    /// Leader → transfer target: start an election now, bypassing pre-vote and leases.
    case timeoutNow = 10
    /// Follower → leader: request a read index for `context`.
    case readIndex = 11
    /// Leader → follower: the read index (`index`) for `context`.
    case readIndexResponse = 12
}

// MARK: - Sendable

extension MessageKind: Sendable {}
