import Raft
import RaftSimulation
import Testing

/// Message budgets in a healthy 3-node cluster (pre-vote and check-quorum on, heartbeat every tick,
/// election timeout 10 ticks). Each budget is the exact count the protocol needs; a regression that adds
/// chatter fails here.
@Suite("Message budgets", .timeLimit(.minutes(2)))
struct MessageBudgetTests {
    @Test("electing a leader costs at most 16 messages")
    func election() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        #expect(cluster[1].role == .leader)
        // Pre-vote: 2 requests + 2 responses. Vote: 2 requests + 2 responses. (The second pre-vote grant
        // arrives after the node already moved on; it costs nothing extra.) The new leader's empty entry:
        // 2 appends + 2 acks; once it commits, 2 appends carrying the commit index + 2 acks = 16.
        #expect(cluster.messagesSent <= 16, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
        #expect(cluster[2].committedIndex == 1 && cluster[3].committedIndex == 1)
    }

    @Test("committing 10 entries costs at most 80 messages one by one, 8 as one batch")
    func commitTenEntries() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.resetCounters()
        for i in 0..<10 {
            try! cluster[1].propose([UInt8(i)])
            cluster.stabilize()
        }
        // Per entry: 2 appends + 2 acks, then 2 appends with the new commit index + 2 acks = 8.
        #expect(cluster.messagesSent <= 80, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
        #expect(cluster.applied[3]?.count == 10)

        cluster.resetCounters()
        try! cluster[1].propose(batch: (0..<10).map { [UInt8($0)] })
        cluster.stabilize()
        // One append carries all ten entries: the same 8 messages for the whole batch.
        #expect(cluster.messagesSent <= 8, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
        #expect(cluster.applied[3]?.count == 20)
    }

    @Test("without commit broadcasts an entry costs 4 messages; followers learn the commit from the next heartbeat")
    func commitWithoutBroadcast() {
        let cluster = LocalCluster(count: 3) { $0.broadcastsCommit = false }
        cluster.elect(1)
        cluster.stabilize()
        cluster.resetCounters()
        for i in 0..<10 {
            try! cluster[1].propose([UInt8(i)])
            cluster.stabilize()
        }
        // Per entry: 2 appends + 2 acks, and no appends that only carry the new commit index.
        #expect(cluster.messagesSent == 40, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
        #expect(cluster[1].committedIndex == cluster[1].lastIndex)
        // Each append carried the commit index known when it was sent: followers trail by the last entry.
        #expect(cluster[2].committedIndex == cluster[1].committedIndex - 1)
        #expect(cluster.applied[2]?.count == 9)
        cluster.tick(1)
        #expect(cluster[2].committedIndex == cluster[1].committedIndex)
        #expect(cluster[3].committedIndex == cluster[1].committedIndex)
        #expect(cluster.applied[3]?.count == 10)
    }

    @Test("without commit broadcasts a committed membership change is still announced at once")
    func membershipChangeAnnounced() {
        let cluster = LocalCluster(count: 3) { $0.broadcastsCommit = false }
        cluster.elect(1)
        cluster.stabilize()
        cluster.tick(1)
        try! cluster[1].proposeConfChange(ConfChange(kind: .removeNode, nodeID: 3))
        cluster.stabilize()
        // Node 3 applies its own removal without waiting for a heartbeat, which it will no longer get.
        #expect(cluster[3].committedIndex == cluster[1].committedIndex)
        #expect(cluster[2].committedIndex == cluster[1].committedIndex)
    }

    @Test("announceCommit sends the commit index to every follower at once")
    func announceCommit() {
        let cluster = LocalCluster(count: 3) { $0.broadcastsCommit = false }
        cluster.elect(1)
        cluster.stabilize()
        try! cluster[1].propose([7])
        cluster.stabilize()
        #expect(cluster[2].committedIndex < cluster[1].committedIndex)
        cluster.resetCounters()
        cluster[1].announceCommit()
        cluster.stabilize()
        #expect(cluster.messagesByKind[.append] == 2)
        #expect(cluster[2].committedIndex == cluster[1].committedIndex)
        #expect(cluster[3].committedIndex == cluster[1].committedIndex)
        cluster[2].announceCommit()  // not the leader: nothing
        #expect(cluster[2].hasReady() == false)
    }

    @Test("100 idle ticks cost at most 400 messages")
    func idleTicks() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.resetCounters()
        cluster.tick(100)
        // One heartbeat per follower per heartbeat tick (every tick here) and one response each:
        // 100 × 2 × 2 = 400, and nothing else (no appends, no elections).
        #expect(cluster.messagesSent <= 400, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
        #expect(cluster.messagesByKind[.append] == nil)
        #expect(cluster.messagesByKind[.requestPreVote] == nil)
        #expect(cluster[1].role == .leader)
    }

    @Test("with heartbeatTick 5, 100 idle ticks cost at most 80 messages")
    func idleTicksSlowHeartbeat() {
        let cluster = LocalCluster(count: 3) { $0.heartbeatTick = 5 }
        cluster.elect(1)
        cluster.resetCounters()
        cluster.tick(100)
        // 100 / 5 = 20 heartbeat rounds × 2 followers × (heartbeat + response) = 80.
        #expect(cluster.messagesSent <= 80, "sent \(cluster.messagesSent): \(cluster.messagesByKind)")
    }
}
