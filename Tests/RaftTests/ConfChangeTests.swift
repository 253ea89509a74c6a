@testable import Raft
import RaftSimulation
import Testing

/// Membership changes, one voter at a time (thesis §4.1).
@Suite("Membership changes (thesis §4.1)", .timeLimit(.minutes(2)))
struct ConfChangeTests {
    @Test("thesis §4.1 adding a server: it catches up from the leader and counts in the quorum once applied")
    func addNode() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].proposeConfChange(ConfChange(kind: .addNode, nodeID: 4))
        cluster.stabilize()
        #expect(cluster[1].confState.voters == [1, 2, 3, 4])
        #expect(cluster[2].confState.voters == [1, 2, 3, 4])
        cluster.addNode(4, bootstrap: ConfState(voters: [1, 2, 3]))
        try! cluster[1].propose([7])
        cluster.stabilize()
        cluster.tick(2)
        #expect(cluster[4].confState.voters == [1, 2, 3, 4], "learned by applying the log")
        #expect(cluster[4].lastIndex == cluster[1].lastIndex)
        #expect(cluster.applied[4] == [[7]])
        // The quorum is now 3 of 4: with 3 and 4 cut off nothing commits.
        cluster.isolate(3)
        cluster.isolate(4)
        let before = cluster[1].committedIndex
        try! cluster[1].propose([8])
        cluster.stabilize()
        #expect(cluster[1].committedIndex == before)
    }

    @Test("thesis §4.1 'a leader ... must not begin a new configuration change until the previous one has committed'")
    func onePendingChangeAtATime() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].proposeConfChange(ConfChange(kind: .addNode, nodeID: 4))
        #expect(throws: RaftError.confChangePending) {
            try cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 3))
        }
        cluster.stabilize()
        try! cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 3))
        cluster.stabilize()
        #expect(cluster[1].confState.voters == [1, 2, 4])
    }

    @Test("thesis §4.1 bug fix: a new leader makes no change before it has applied every entry from earlier terms")
    func newLeaderWaitsForEarlierEntries() {
        let peer = Peer(id: 1, voters: [1, 2, 3], logTerms: [1, 1, 1], term: 1)
        peer.node.campaign()
        peer.node.step(Message(kind: .requestPreVoteResponse, from: 2, to: 1, term: 2))
        peer.node.step(Message(kind: .requestVoteResponse, from: 2, to: 1, term: 2))
        #expect(peer.node.role == .leader)
        #expect(throws: RaftError.confChangePending) {
            try peer.node.proposeConfChange(ConfChange(kind: .addNode, nodeID: 4))
        }
    }

    @Test("invalid changes are refused: adding a voter twice, removing a non-voter")
    func invalidChanges() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        #expect(throws: RaftError.invalidConfChange) {
            try cluster[1].proposeConfChange(ConfChange(kind: .addNode, nodeID: 2))
        }
        #expect(throws: RaftError.invalidConfChange) {
            try cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 9))
        }
    }

    @Test("thesis §4.2.2 removing the leader: it steps down once the change is applied and the rest elect a leader")
    func removeLeader() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 1))
        cluster.stabilize()
        #expect(cluster[1].role == .follower)
        #expect(cluster[2].confState.voters == [2, 3])
        cluster.isolate(1)
        cluster.tick(40)
        let leader = cluster.leader
        #expect(leader == 2 || leader == 3)
        try! cluster[leader!].propose([5])
        cluster.stabilize()
        #expect(cluster.applied[2]?.last == [5])
        #expect(cluster.applied[3]?.last == [5])
        // The removed node is not a voter any more and does not campaign.
        #expect(cluster[1].role == .follower)
    }

    @Test("a removed follower shrinks the quorum: commits proceed without it")
    func removeFollowerShrinksQuorum() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        try! cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 3))
        cluster.stabilize()
        cluster.isolate(3)
        try! cluster[1].propose([1])
        cluster.stabilize()
        #expect(cluster.applied[2]?.last == [1])
    }

    @Test("ConfChange encodes to 9 bytes plus its context and rejects malformed input")
    func encoding() throws {
        let change = ConfChange(kind: .removeNode, nodeID: 0x0102_0304_0506_0708)
        let bytes = change.encode()
        #expect(bytes == [2, 1, 2, 3, 4, 5, 6, 7, 8])
        #expect(try ConfChange(decoding: bytes) == change)
        let withContext = ConfChange(kind: .addNode, nodeID: 7, context: [0xAA, 0xBB])
        #expect(withContext.encode() == [1, 0, 0, 0, 0, 0, 0, 0, 7, 0xAA, 0xBB])
        #expect(try ConfChange(decoding: withContext.encode()) == withContext)
        #expect(throws: RaftError.malformedConfChange) { try ConfChange(decoding: [2, 1]) }
        #expect(throws: RaftError.malformedConfChange) { try ConfChange(decoding: [9, 0, 0, 0, 0, 0, 0, 0, 1]) }
    }
}
