@testable import Raft
import RaftSimulation
import Testing

/// Leader election, Raft paper §5.2 and §5.4.1.
@Suite("Election (§5.2, §5.4.1)", .timeLimit(.minutes(2)))
struct ElectionTests {
    @Test("§5.2 'If a follower receives no communication over a period of time called the election timeout, then it assumes there is no viable leader and begins an election'")
    func followerCampaignsAfterTimeout() {
        let peer = Peer(id: 1, voters: [1, 2, 3], logTerms: [1, 1], term: 1, configure: paperConfig)
        for _ in 0..<(2 * peer.node.config.electionTick) { peer.node.tick() }
        #expect(peer.node.role == .candidate)
        // "it increments its current term ... votes for itself ... issues RequestVote RPCs in parallel"
        #expect(peer.node.term == 2)
        #expect(peer.node.vote == 1)
        let messages = peer.messages()
        #expect(messages == [
            Message(kind: .requestVote, from: 1, to: 2, term: 2, logTerm: 1, index: 2),
            Message(kind: .requestVote, from: 1, to: 3, term: 2, logTerm: 1, index: 2),
        ])
        #expect(peer.storage.hardState == HardState(term: 2, vote: 1, commit: 0))
    }

    @Test("§5.2 'Raft uses randomized election timeouts ... chosen randomly from a fixed interval'")
    func randomizedTimeoutsStayInRange() {
        var seen: Set<Int> = []
        for seed in 0..<50 as Range<UInt64> {
            let storage = makeStorage(voters: [1, 2, 3])
            let node = try! RaftNode(config: RaftConfig(id: 1), storage: storage, random: SplitMix64(seed: seed))
            #expect(node.randomizedElectionTimeout >= 10 && node.randomizedElectionTimeout < 20)
            seen.insert(node.randomizedElectionTimeout)
        }
        #expect(seen.count > 3)
    }

    @Test("§5.2 'A candidate wins an election if it receives votes from a majority of the servers in the full cluster for the same term'")
    func candidateWinsWithMajority() {
        let peer = Peer(id: 1, voters: [1, 2, 3, 4, 5], configure: paperConfig)
        peer.node.campaign()
        #expect(peer.node.role == .candidate)
        peer.node.step(Message(kind: .requestVoteResponse, from: 2, to: 1, term: 1))
        #expect(peer.node.role == .candidate, "2 of 5 is not a majority")
        peer.node.step(Message(kind: .requestVoteResponse, from: 3, to: 1, term: 1, reject: true))
        #expect(peer.node.role == .candidate)
        peer.node.step(Message(kind: .requestVoteResponse, from: 4, to: 1, term: 1))
        #expect(peer.node.role == .leader)
        #expect(peer.node.leader == 1)
        // "It then sends heartbeat messages to all of the other servers to establish its authority": the
        // new leader appends an empty entry of its term and sends it to everyone.
        let appends = peer.messages().filter { $0.kind == .append }
        #expect(appends.map(\.to) == [2, 3, 4, 5])
        #expect(appends.allSatisfy { $0.entries == [Entry(term: 1, index: 1)] })
    }

    @Test("§5.2 'if a majority rejects, the candidate ... returns to follower'")
    func candidateLosesWithMajorityRejecting() {
        let peer = Peer(id: 1, voters: [1, 2, 3], configure: paperConfig)
        peer.node.campaign()
        peer.node.step(Message(kind: .requestVoteResponse, from: 2, to: 1, term: 1, reject: true))
        peer.node.step(Message(kind: .requestVoteResponse, from: 3, to: 1, term: 1, reject: true))
        #expect(peer.node.role == .follower)
        #expect(peer.node.term == 1)
    }

    @Test("§5.2 'Each server will vote for at most one candidate in a given term, on a first-come-first-served basis'")
    func votesOncePerTerm() {
        let peer = Peer(id: 1, voters: [1, 2, 3], configure: paperConfig)
        peer.node.step(Message(kind: .requestVote, from: 2, to: 1, term: 1))
        peer.node.step(Message(kind: .requestVote, from: 3, to: 1, term: 1))
        // A retransmitted request from the candidate we voted for is granted again (idempotent).
        peer.node.step(Message(kind: .requestVote, from: 2, to: 1, term: 1))
        let responses = peer.messages()
        #expect(responses == [
            Message(kind: .requestVoteResponse, from: 1, to: 2, term: 1),
            Message(kind: .requestVoteResponse, from: 1, to: 3, term: 1, reject: true),
            Message(kind: .requestVoteResponse, from: 1, to: 2, term: 1),
        ])
        // The vote is durable: it is in the hard state of the same Ready as the grant.
        #expect(peer.storage.hardState.vote == 2)
    }

    @Test("§5.2 'If the leader's term ... is at least as large as the candidate's current term, then the candidate recognizes the leader as legitimate and returns to follower state'")
    func candidateYieldsToLeaderOfSameTerm() {
        let peer = Peer(id: 1, voters: [1, 2, 3], configure: paperConfig)
        peer.node.campaign()
        #expect(peer.node.term == 1)
        peer.node.step(Message(kind: .append, from: 2, to: 1, term: 1, logTerm: 0, index: 0,
                               entries: [Entry(term: 1, index: 1)]))
        #expect(peer.node.role == .follower)
        #expect(peer.node.leader == 2)
        #expect(peer.node.lastIndex == 1)
    }

    @Test("§5.2 'If the term in the RPC is smaller than the candidate's current term, then the candidate rejects the RPC and continues in candidate state'")
    func candidateRejectsStaleLeader() {
        let peer = Peer(id: 1, voters: [1, 2, 3], term: 4, configure: paperConfig)
        peer.node.campaign()
        #expect(peer.node.term == 5)
        peer.node.step(Message(kind: .append, from: 2, to: 1, term: 4, entries: [Entry(term: 4, index: 1)]))
        #expect(peer.node.role == .candidate)
        #expect(peer.node.lastIndex == 0)
    }

    @Test("§5.1 'If a candidate or leader discovers that its term is out of date, it immediately reverts to follower state'")
    func leaderStepsDownOnHigherTerm() {
        let cluster = LocalCluster(count: 3, configure: paperConfig)
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        cluster[1].step(Message(kind: .appendResponse, from: 2, to: 1, term: 7, index: 0))
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 7)
        #expect(cluster[1].vote == 0)
    }

    /// §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate ...
    /// If the logs have last entries with different terms, then the log with the later term is more
    /// up-to-date. If the logs end with the same term, then whichever log is longer is more up-to-date."
    @Test("§5.4.1 election restriction: vote only for candidates at least as up-to-date",
          arguments: [
              // (candidate last index, candidate last term, granted) against a voter log [1, 1, 2]
              (UInt64(3), UInt64(2), true),
              (UInt64(4), UInt64(2), true),
              (UInt64(2), UInt64(2), false),
              (UInt64(1), UInt64(3), true),
              (UInt64(9), UInt64(1), false),
          ])
    func electionRestriction(index: UInt64, logTerm: UInt64, granted: Bool) {
        let peer = Peer(id: 1, voters: [1, 2, 3], logTerms: [1, 1, 2], term: 2, configure: paperConfig)
        peer.node.step(Message(kind: .requestVote, from: 2, to: 1, term: 3, logTerm: logTerm, index: index))
        let response = peer.messages().first
        #expect(response?.kind == .requestVoteResponse)
        #expect(response?.reject == !granted)
        #expect(peer.node.term == 3)
    }

    @Test("a leader of a single-voter group is elected on its own")
    func singleNodeElectsItself() {
        let peer = Peer(id: 1, voters: [1])
        peer.node.campaign()
        #expect(peer.node.role == .leader)
        #expect(peer.node.term == 1)
        let rd = peer.handleReady()
        #expect(rd.committedEntries == [Entry(term: 1, index: 1)])
    }
}

@Suite("Pre-vote vote rules", .timeLimit(.minutes(2)))
struct PreVoteRuleTests {
    @Test("§5.4.1 applies to pre-votes too: a node with a stale log cannot even win the pre-vote")
    func staleLogLosesPreVote() {
        let storages: [UInt64: MemoryStorage] = [
            1: makeStorage(voters: [1, 2, 3], logTerms: [1], term: 2),
            2: makeStorage(voters: [1, 2, 3], logTerms: [1, 2], term: 2),
            3: makeStorage(voters: [1, 2, 3], logTerms: [1, 2], term: 2),
        ]
        let cluster = LocalCluster(storages: storages)
        cluster[1].campaign()
        cluster.stabilize()
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].term == 2, "a failed pre-vote leaves the term alone")
        #expect(cluster[2].term == 2 && cluster[3].term == 2)
    }
}
