@testable import Raft
import RaftSimulation
import Testing

/// Linearizable reads without writing the log, Raft thesis §6.4.
@Suite("ReadIndex (thesis §6.4)", .timeLimit(.minutes(2)))
struct ReadIndexTests {
    @Test("thesis §6.4 'the leader records its current commit index ... sends a new round of heartbeats ... once a majority acknowledge, the read index is safe'")
    func leaderReadIndex() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].propose([1])
        cluster.stabilize()
        let commit = cluster[1].committedIndex
        cluster.resetCounters()
        try! cluster[1].readIndex(context: [1])
        cluster.stabilize()
        #expect(cluster.readStates[1] == [ReadState(index: commit, context: [1])])
        #expect(cluster.messagesByKind[.heartbeat] == 2)
    }

    @Test("thesis §6.4 a follower's read index is obtained from the leader")
    func followerReadIndex() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].propose([1])
        cluster.stabilize()
        try! cluster[2].readIndex(context: [7, 7])
        cluster.stabilize()
        #expect(cluster.readStates[2] == [ReadState(index: cluster[1].committedIndex, context: [7, 7])])
    }

    @Test("thesis §6.4 'If the leader has not yet marked an entry from its current term committed, it waits until it has'")
    func waitsForCommitInTerm() {
        let peer = Peer(id: 1, voters: [1, 2, 3], logTerms: [1, 1], term: 1)
        peer.node.campaign()
        peer.node.step(Message(kind: .requestPreVoteResponse, from: 2, to: 1, term: 2))
        peer.node.step(Message(kind: .requestVoteResponse, from: 2, to: 1, term: 2))
        #expect(peer.node.role == .leader)
        peer.handleReady()
        try! peer.node.readIndex(context: [3])
        #expect(peer.handleReady().readStates.isEmpty)
        // Node 2 acknowledges the new term's entry: it commits, and the read proceeds with a heartbeat round.
        peer.node.step(Message(kind: .appendResponse, from: 2, to: 1, term: 2, index: 3))
        #expect(peer.node.committedIndex == 3)
        let beats = peer.handleReady().messages.filter { $0.kind == .heartbeat }
        #expect(beats.map(\.context) == [[3], [3]])
        peer.node.step(Message(kind: .heartbeatResponse, from: 3, to: 1, term: 2, context: [3]))
        #expect(peer.handleReady().readStates == [ReadState(index: 3, context: [3])])
    }

    @Test("a leader cut off from the majority cannot answer a safe read")
    func isolatedLeaderCannotRead() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(1)
        try! cluster[1].readIndex(context: [1])
        cluster.tick(3)
        #expect(cluster.readStates[1] == [])
    }

    @Test("lease-based reads are answered at once, without a heartbeat round")
    func leaseRead() {
        let cluster = LocalCluster(count: 3) { $0.readOnlyOption = .leaseBased }
        cluster.elect(1)
        cluster.resetCounters()
        try! cluster[1].readIndex(context: [4])
        cluster.stabilize()
        #expect(cluster.readStates[1] == [ReadState(index: cluster[1].committedIndex, context: [4])])
        #expect(cluster.messagesSent == 0)
    }

    @Test("leaseBased without checkQuorum is an invalid configuration")
    func leaseRequiresCheckQuorum() {
        var config = RaftConfig(id: 1, checkQuorum: false, readOnlyOption: .leaseBased)
        #expect(throws: RaftError.invalidConfig("leaseBased reads require checkQuorum")) { try config.validate() }
        config.checkQuorum = true
        #expect(throws: Never.self) { try config.validate() }
    }

    @Test("a read with no known leader fails at once")
    func noLeader() {
        let peer = Peer(id: 1, voters: [1, 2, 3])
        #expect(throws: RaftError.notLeader) { try peer.node.readIndex(context: [1]) }
    }
}
