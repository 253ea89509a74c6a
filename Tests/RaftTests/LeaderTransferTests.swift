@testable import Raft
import RaftSimulation
import Testing

/// Leadership transfer, Raft thesis §3.10.
@Suite("Leader transfer (thesis §3.10)", .timeLimit(.minutes(2)))
struct LeaderTransferTests {
    @Test("thesis §3.10 'the prior leader sends a TimeoutNow request to the target server ... the target server ... begins a new election'")
    func transferToUpToDateFollower() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        let term = cluster[1].term
        try! cluster[1].transferLeader(to: 2)
        cluster.stabilize()
        #expect(cluster[2].role == .leader)
        #expect(cluster[2].term == term + 1)
        #expect(cluster[1].role == .follower)
        #expect(cluster[1].leader == 2)
    }

    @Test("thesis §3.10 'the prior leader stops accepting new client requests' and first brings the target up to date")
    func transferToLaggingFollower() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(3)
        for i in 0..<5 { try! cluster[1].propose([UInt8(i)]) }
        cluster.stabilize()
        try! cluster[1].transferLeader(to: 3)
        #expect(cluster[1].leaderTransferee == 3)
        #expect(throws: RaftError.leaderTransferInProgress) { try cluster[1].propose([9]) }
        cluster.heal()
        cluster.tick(2)
        #expect(cluster[3].role == .leader)
        #expect(cluster[3].lastIndex >= 7)
    }

    @Test("thesis §3.10 'if the transfer does not complete within about one election timeout, the prior leader aborts the transfer and resumes accepting client requests'")
    func transferAbortsAfterElectionTimeout() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(3)
        try! cluster[1].propose([1])
        cluster.stabilize()
        try! cluster[1].transferLeader(to: 3)
        cluster.tick(cluster[1].config.electionTick)
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].leaderTransferee == 0)
        #expect(throws: Never.self) { try cluster[1].propose([2]) }
    }

    @Test("a transfer's vote request overrides the voters' leader lease")
    func transferBypassesLease() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        // Node 3 heard from the leader just now, so a normal vote request would be ignored; the
        // transfer flag tells it the leader itself asked.
        try! cluster[1].transferLeader(to: 2)
        cluster.stabilize()
        #expect(cluster[2].role == .leader)
        #expect(cluster[3].leader == 2)
    }

    @Test("transferring to oneself or to a non-voter is refused")
    func invalidTargets() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        #expect(throws: RaftError.invalidConfChange) { try cluster[1].transferLeader(to: 1) }
        #expect(throws: RaftError.invalidConfChange) { try cluster[1].transferLeader(to: 7) }
        #expect(throws: RaftError.notLeader) { try cluster[2].transferLeader(to: 3) }
    }
}
