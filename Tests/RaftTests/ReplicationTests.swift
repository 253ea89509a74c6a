@testable import Raft
import RaftSimulation
import Testing

/// Log replication and commitment, Raft paper §5.3 and §5.4.2.
@Suite("Replication (§5.3, §5.4.2)", .timeLimit(.minutes(2)))
struct ReplicationTests {
    @Test("§5.3 'A log entry is committed once the leader that created the entry has replicated it on a majority of the servers'")
    func commitOnMajority() {
        let cluster = LocalCluster(count: 5, configure: paperConfig)
        cluster.elect(1)
        let base = cluster[1].committedIndex
        cluster.isolate(4)
        cluster.isolate(5)
        let index = try! cluster[1].propose([42])
        cluster.stabilize()
        #expect(cluster[1].committedIndex == index, "3 of 5 have it")
        #expect(index == base + 1)
        // "the leader ... includes that index in future AppendEntries RPCs ... so that the other servers
        // eventually find out": followers that have it apply it.
        #expect(cluster.applied[2] == [[42]])
        #expect(cluster.applied[3] == [[42]])
        // With 3 and 4 and 5 unreachable only 2 of 5 hold the next entry: it stays uncommitted.
        cluster.isolate(3)
        try! cluster[1].propose([43])
        cluster.stabilize()
        #expect(cluster[1].committedIndex == index)
        #expect(cluster[2].lastIndex == index + 1)
    }

    @Test("§5.3 'When sending an AppendEntries RPC, the leader includes the index and term of the entry in its log that immediately precedes the new entries. If the follower does not find an entry in its log with the same index and term, then it refuses the new entries'")
    func consistencyCheck() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 2], term: 3, configure: paperConfig)
        peer.node.step(Message(kind: .append, from: 1, to: 2, term: 3, logTerm: 3, index: 3,
                               entries: [Entry(term: 3, index: 4)]))
        let reject = peer.messages()
        // Rejected at 3, with the hint: our entry at 3 has term 2 (<= 3), so the leader can skip there.
        #expect(reject == [Message(kind: .appendResponse, from: 2, to: 1, term: 3, logTerm: 2, index: 3,
                                   reject: true, rejectHint: 3)])
        #expect(peer.node.lastIndex == 3)
    }

    @Test("§5.3 'If an existing entry conflicts with a new one (same index but different terms), delete the existing entry and all that follow it'")
    func conflictingSuffixIsReplaced() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 2, 2, 2], term: 2, configure: paperConfig)
        peer.node.step(Message(kind: .append, from: 1, to: 2, term: 3, logTerm: 1, index: 2,
                               entries: [Entry(term: 3, index: 3, data: [9])], commit: 3))
        #expect(logTerms(peer.node) == [1, 1, 3])
        #expect(peer.node.committedIndex == 3)
        let rd = peer.handleReady()
        #expect(rd.entries == [Entry(term: 3, index: 3, data: [9])])
        #expect(rd.messages == [Message(kind: .appendResponse, from: 2, to: 1, term: 3, index: 3)])
        #expect(peer.storage.storedEntries.map(\.term) == [1, 1, 3], "storage truncated too")
    }

    @Test("§5.3 an append already covered (duplicate or reordered) changes nothing and truncates nothing")
    func duplicateAppendIsHarmless() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 1, 1], term: 1, configure: paperConfig)
        peer.node.step(Message(kind: .append, from: 1, to: 2, term: 1, logTerm: 1, index: 1,
                               entries: [Entry(term: 1, index: 2, data: [1])]))
        #expect(peer.node.lastIndex == 4, "entries 3 and 4 survive a stale, shorter append")
        #expect(peer.messages() == [Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 2)])
    }

    @Test("§5.3 Figure 7: the leader forces every follower's log (a)-(f) to duplicate its own, with O(terms) probes")
    func figure7() {
        // Figure 7: leader for term 8 and six possible follower logs.
        let logs: [UInt64: [UInt64]] = [
            1: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],        // leader
            2: [1, 1, 1, 4, 4, 5, 5, 6, 6],           // (a) missing an entry
            3: [1, 1, 1, 4],                          // (b) missing many
            4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],     // (c) an extra uncommitted entry
            5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],  // (d) extra entries of term 7
            6: [1, 1, 1, 4, 4, 4, 4],                 // (e) missing, and extra of term 4
            7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],     // (f) a leader of terms 2 and 3 that failed
        ]
        var storages: [UInt64: MemoryStorage] = [:]
        for (id, terms) in logs {
            storages[id] = makeStorage(voters: Array(1...7), logTerms: terms, term: 7)
        }
        let cluster = LocalCluster(storages: storages, configure: paperConfig)
        cluster[1].campaign()
        cluster.stabilize()
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == 8)
        let expected: [UInt64] = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 8]
        for id in cluster.ids {
            #expect(logTerms(cluster[id]) == expected, "node \(id)")
            #expect(cluster[id].committedIndex == 11, "node \(id)")
        }
    }

    @Test("§5.3 fast back-off: a follower far behind is found in one round trip per term, not per entry")
    func fastBackoffIsPerTerm() {
        // The follower has 100 entries of term 1 the leader never had past index 2; the leader has 50
        // entries of term 2, 50 of term 3.
        let leaderLog: [UInt64] = [1, 1] + Array(repeating: 2, count: 50) + Array(repeating: 3, count: 50)
        let followerLog: [UInt64] = Array(repeating: 1, count: 100)
        let storages: [UInt64: MemoryStorage] = [
            1: makeStorage(voters: [1, 2, 3], logTerms: leaderLog, term: 3),
            2: makeStorage(voters: [1, 2, 3], logTerms: followerLog, term: 3),
            3: makeStorage(voters: [1, 2, 3], logTerms: leaderLog, term: 3),
        ]
        let replay = LocalCluster(storages: storages, configure: paperConfig)
        replay[1].campaign()
        var rejects = 0
        for _ in 0..<100 {
            replay.processReadies()
            if replay.pending.isEmpty { break }
            let batch = replay.pending
            replay.pending = []
            for m in batch {
                if m.kind == .appendResponse && m.reject && m.from == 2 { rejects += 1 }
                replay[m.to].step(m)
            }
        }
        #expect(logTerms(replay[2]) == leaderLog + [4])
        // The first probe (at 102, term 3) is answered with a hint at index 100, term 1; the leader skips
        // straight to its last entry of term <= 1 (index 2), which matches. One rejection, not 100.
        #expect(rejects == 1, "got \(rejects) rejections")
    }

    @Test("§5.4.2 Figure 8: 'Raft never commits log entries from previous terms by counting replicas'")
    func figure8NoCommitByCountingOldTerms() {
        // Figure 8 (c): S1 leads term 4 and replicates its term-2 entry at index 2 to a majority, while S5
        // (who led term 3) holds a term-3 entry there instead.
        let storages: [UInt64: MemoryStorage] = [
            1: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1, 2], term: 3),
            2: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1], term: 3),
            3: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1], term: 3),
            4: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1], term: 3),
            5: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1, 3], term: 3),
        ]
        // One entry per append message, so followers get index 2 before index 3.
        let cluster = LocalCluster(storages: storages) { config in
            paperConfig(&config)
            config.maxSizePerMessage = 1
        }
        cluster.isolate(5)
        cluster[1].campaign()
        // Index 3 (S1's empty entry of term 4) never arrives: it is stripped from every append.
        for _ in 0..<50 {
            cluster.processReadies()
            let batch = cluster.pending
            cluster.pending = []
            for var m in batch where !cluster.cut.contains([m.from, m.to]) {
                m.entries.removeAll { $0.index == 3 }
                cluster[m.to].step(m)
            }
        }
        #expect(cluster[1].role == .leader)
        #expect(cluster[1].term == 4)
        #expect(logTerms(cluster[1]) == [1, 2, 4])
        #expect(cluster[1].progress(of: 2)?.match == 2)
        #expect(cluster[1].progress(of: 3)?.match == 2)
        #expect(cluster[1].progress(of: 4)?.match == 2)
        // Index 2 is on S1-S4, a majority, but it is from term 2: nothing is committed.
        #expect(cluster[1].committedIndex == 0)

        // Figure 8 (d): S5 can still be elected (votes from S2, S3, S4) and overwrite index 2, which is why
        // counting replicas of an old-term entry must not commit it.
        cluster.heal()
        cluster.isolate(1)
        cluster.pending = []
        cluster[5].campaign()   // term 4: everyone already voted for S1
        cluster.stabilize()
        cluster[5].campaign()   // term 5
        cluster.stabilize()
        #expect(cluster[5].role == .leader)
        #expect(cluster[2].term(at: 2) == 3, "the term-2 entry was overwritten")
        #expect(cluster[3].term(at: 2) == 3)
    }

    @Test("§5.4.2 Figure 8 (e): 'once an entry from the current term has been committed ... all prior entries are committed indirectly'")
    func figure8IndirectCommit() {
        let storages: [UInt64: MemoryStorage] = [
            1: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1, 2], term: 3),
            2: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1, 2], term: 3),
            3: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1], term: 3),
            4: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1], term: 3),
            5: makeStorage(voters: [1, 2, 3, 4, 5], logTerms: [1, 3], term: 3),
        ]
        let cluster = LocalCluster(storages: storages, configure: paperConfig)
        cluster.isolate(5)
        cluster[1].campaign()
        cluster.stabilize()
        #expect(cluster[1].role == .leader)
        #expect(logTerms(cluster[1]) == [1, 2, 4])
        #expect(cluster[1].committedIndex == 3)
        // S5 can no longer win: a majority has a log more up-to-date than its [1, 3].
        cluster.heal()
        cluster.isolate(1)
        cluster[5].campaign()
        cluster.stabilize()
        #expect(cluster[5].role != .leader)
    }

    @Test("the leader's commit index reaches followers in heartbeats, capped at what they hold")
    func heartbeatCarriesCappedCommit() {
        let cluster = LocalCluster(count: 3, configure: paperConfig)
        cluster.elect(1)
        let hb = cluster[1]
        hb.tick()
        let rd = hb.ready()
        hb.advance(rd)
        let beats = rd.messages.filter { $0.kind == .heartbeat }
        #expect(beats.count == 2)
        #expect(beats.allSatisfy { $0.commit == hb.committedIndex })
    }

    @Test("§5.5 a restarted follower keeps its term, vote and log, and loses what it had not persisted")
    func restartKeepsPersistedState() {
        let cluster = LocalCluster(count: 3, configure: paperConfig)
        cluster.elect(1)
        try! cluster[1].propose([1])
        cluster.stabilize()
        let before = (cluster[2].term, cluster[2].vote, logTerms(cluster[2]), cluster[2].committedIndex)
        // An append that node 2 steps but never persists (no Ready handled) is lost by the crash.
        cluster[2].step(Message(kind: .append, from: 1, to: 2, term: 1, logTerm: 1, index: 2,
                                entries: [Entry(term: 1, index: 3, data: [7])]))
        #expect(cluster[2].lastIndex == 3)
        cluster.restart(2, configure: paperConfig)
        #expect(cluster[2].term == before.0)
        #expect(cluster[2].vote == before.1)
        #expect(logTerms(cluster[2]) == before.2)
        #expect(cluster[2].committedIndex == before.3)
        #expect(cluster[2].lastIndex == 2)
    }
}

@Suite("Flow control and progress", .timeLimit(.minutes(2)))
struct FlowControlTests {
    @Test("a leader in replicate state stops at maxInflightMessages unacknowledged appends")
    func inflightLimit() {
        let cluster = LocalCluster(count: 3) { config in
            config.maxInflightMessages = 2
            config.maxSizePerMessage = 1
        }
        cluster.elect(1)
        cluster.isolate(2)
        cluster.isolate(3)
        cluster.processReadies()
        cluster.pending = []
        for i in 0..<5 { try! cluster[1].propose([UInt8(i)]) }
        let appendsTo2 = cluster[1].ready().messages.filter { $0.kind == .append && $0.to == 2 }
        #expect(appendsTo2.count == 2)
        #expect(appendsTo2.allSatisfy { $0.entries.count == 1 })
        #expect(cluster[1].progress(of: 2)?.isPaused == true)
    }

    @Test("a stale (reordered) acknowledgement does not move match backwards")
    func staleAckIgnored() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        for i in 0..<3 { try! cluster[1].propose([UInt8(i)]) }
        cluster.stabilize()
        let match = cluster[1].progress(of: 2)!.match
        cluster[1].step(Message(kind: .appendResponse, from: 2, to: 1, term: cluster[1].term, index: 1))
        #expect(cluster[1].progress(of: 2)?.match == match)
        cluster[1].step(Message(kind: .appendResponse, from: 2, to: 1, term: cluster[1].term, index: 1,
                                reject: true, rejectHint: 0))
        #expect(cluster[1].progress(of: 2)?.match == match)
        #expect(cluster[1].progress(of: 2)?.state == .replicate, "a rejection below match is stale")
    }

    @Test("reportUnreachable drops a streaming follower back to probing")
    func unreachable() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        #expect(cluster[1].progress(of: 2)?.state == .replicate)
        cluster[1].reportUnreachable(2)
        #expect(cluster[1].progress(of: 2)?.state == .probe)
    }

    @Test("heartbeat responses unblock a follower whose acknowledgements were all lost")
    func lostAcksRecover() {
        let cluster = LocalCluster(count: 3) { $0.maxInflightMessages = 1 }
        cluster.elect(1)
        try! cluster[1].propose([1])
        cluster.processReadies()
        // Lose everything in flight, including the appends.
        cluster.pending = []
        #expect(cluster[1].progress(of: 2)?.isPaused == true)
        cluster.tick(3)
        #expect(cluster.applied[2] == [[1]])
        #expect(cluster.applied[3] == [[1]])
    }
}
