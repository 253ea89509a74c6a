@testable import Raft
import RaftSimulation
import Testing

/// Pre-vote and check-quorum, Raft thesis §9.6 and §6.2 (leader stickiness §4.2.3).
@Suite("Pre-vote and check-quorum (thesis §9.6, §6.2)", .timeLimit(.minutes(2)))
struct PreVoteCheckQuorumTests {
    @Test("thesis §9.6 'a candidate would first ask other servers whether its log was up-to-date enough to get their vote': a partitioned node rejoining does not disrupt the leader")
    func partitionedNodeDoesNotDisrupt() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tick(100)
        // Pre-vote never wins without a quorum, so node 3 never bumps its term.
        #expect(cluster[3].term == term)
        #expect(cluster[3].role == .preCandidate || cluster[3].role == .follower)
        cluster.heal()
        cluster.tick(5)
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == term)
        #expect(cluster[3].leader == 1)
    }

    @Test("without pre-vote the same rejoining node forces an election (why pre-vote exists)")
    func withoutPreVoteRejoinDisrupts() {
        let cluster = LocalCluster(count: 3) { $0.preVote = false }
        cluster.elect(1)
        let term = cluster[1].term
        cluster.isolate(3)
        cluster.tick(100)
        #expect(cluster[3].term > term + 1)
        cluster.heal()
        cluster.tick(30)
        #expect(cluster[1].term > term, "the old leader's term was overtaken")
    }

    @Test("thesis §6.2 check-quorum: 'a leader steps down if an election timeout elapses without a successful round of heartbeats to a majority'")
    func leaderWithoutQuorumStepsDown() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(1)
        cluster.tick(cluster[1].config.electionTick)
        #expect(cluster[1].role == .leader, "the first round still counts activity from before the cut")
        cluster.tick(cluster[1].config.electionTick)
        #expect(cluster[1].role == .follower)
        // A leader stepped down refuses proposals.
        #expect(throws: RaftError.notLeader) { try cluster[1].propose([1]) }
    }

    @Test("thesis §4.2.3 'if a server receives a RequestVote request within the minimum election timeout of hearing from a current leader, it does not update its term or grant its vote'")
    func leaderStickiness() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        let term = cluster[1].term
        cluster[2].step(Message(kind: .requestVote, from: 3, to: 2, term: term + 5, logTerm: term, index: 99))
        #expect(cluster[2].term == term)
        #expect(cluster[2].vote == 1)
        cluster.stabilize()
        #expect(cluster[1].role == .leader)
    }

    @Test("thesis §9.6 pre-vote requests neither change the voter's term nor record a vote")
    func preVoteLeavesNoTrace() {
        let peer = Peer(id: 1, voters: [1, 2, 3], logTerms: [1], term: 1)
        peer.node.step(Message(kind: .requestPreVote, from: 2, to: 1, term: 2, logTerm: 1, index: 1))
        #expect(peer.node.term == 1)
        #expect(peer.node.vote == 0)
        #expect(peer.messages() == [Message(kind: .requestPreVoteResponse, from: 1, to: 2, term: 2)])
    }

    @Test("a pre-candidate that wins the pre-vote starts a real election in the next term")
    func preVoteThenVote() {
        let peer = Peer(id: 1, voters: [1, 2, 3])
        peer.node.campaign()
        #expect(peer.node.role == .preCandidate)
        #expect(peer.node.term == 0)
        let preVotes = peer.messages()
        #expect(preVotes.map(\.kind) == [.requestPreVote, .requestPreVote])
        #expect(preVotes.allSatisfy { $0.term == 1 })
        peer.node.step(Message(kind: .requestPreVoteResponse, from: 2, to: 1, term: 1))
        #expect(peer.node.role == .candidate)
        #expect(peer.node.term == 1)
        #expect(peer.messages().map(\.kind) == [.requestVote, .requestVote])
    }
}
