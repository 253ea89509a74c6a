/// The outcome of an election so far.
enum VoteResult: Equatable {
    /// Not decided: enough voters have not answered.
    case pending
    /// A majority rejected.
    case lost
    /// A majority granted.
    case won
}

/// Majority arithmetic over one set of voters.
enum Quorum {
    /// The size of a majority of `count` voters.
    static func majority(_ count: Int) -> Int {
        count / 2 + 1
    }

    /// The highest index replicated on a majority of `voters`, given each voter's match index.
    static func committedIndex(voters: [UInt64], match: (UInt64) -> UInt64) -> UInt64 {
        guard !voters.isEmpty else { return 0 }
        let sorted = voters.map(match).sorted(by: >)
        return sorted[majority(voters.count) - 1]
    }

    /// Whether `votes` (voter id → granted) has won, lost, or is still pending among `voters`.
    static func voteResult(voters: [UInt64], votes: [UInt64: Bool]) -> VoteResult {
        guard !voters.isEmpty else { return .won }
        var granted = 0
        var missing = 0
        for id in voters {
            switch votes[id] {
            case .some(true): granted += 1
            case .some(false): break
            case .none: missing += 1
            }
        }
        let needed = majority(voters.count)
        if granted >= needed { return .won }
        if granted + missing >= needed { return .pending }
        return .lost
    }
}
