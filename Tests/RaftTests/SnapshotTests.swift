@testable import Raft
import RaftSimulation
import Testing

/// Log compaction and snapshots, Raft paper §7.
@Suite("Snapshots (§7)", .timeLimit(.minutes(2)))
struct SnapshotTests {
    /// Compacts node `id`'s storage up to its applied index, as a raftstore's log GC would.
    func compact(_ cluster: LocalCluster, _ id: UInt64) -> UInt64 {
        let node = cluster[id]
        let storage = cluster.storages[id]!
        let applied = node.appliedIndex
        try! storage.createSnapshot(index: applied, confState: node.confState, data: [0xAB])
        try! storage.compact(upTo: applied)
        return applied
    }

    @Test("§7 'the leader must occasionally send snapshots to followers that lag behind ... when the leader has already discarded the next log entry that it needs to send'")
    func laggingFollowerGetsSnapshot() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(3)
        for i in 0..<10 { try! cluster[1].propose([UInt8(i)]) }
        cluster.stabilize()
        let snapshotIndex = compact(cluster, 1)
        #expect(cluster[1].firstIndex == snapshotIndex + 1)
        cluster.heal()
        cluster.resetCounters()
        cluster.tick(3)
        #expect(cluster.messagesByKind[.snapshot] == 1)
        #expect(cluster.storages[3]!.latestSnapshot.metadata.index == snapshotIndex)
        #expect(cluster.storages[3]!.latestSnapshot.data == [0xAB])
        #expect(cluster[3].committedIndex == cluster[1].committedIndex)
        #expect(cluster[3].lastIndex == cluster[1].lastIndex)
        #expect(cluster[1].progress(of: 3)?.state == .replicate)
        // Replication continues normally after the snapshot.
        try! cluster[1].propose([99])
        cluster.stabilize()
        #expect(cluster.applied[3]?.last == [99])
    }

    @Test("§7 'If the follower receives a snapshot that describes a prefix of its log ... entries covered by the snapshot are deleted but entries following the snapshot are still valid and must be retained'")
    func snapshotOfPrefixKeepsLog() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 1, 1, 1], term: 1, commit: 2)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 3, term: 1, confState: ConfState(voters: [1, 2, 3])))
        peer.node.step(Message(kind: .snapshot, from: 1, to: 2, term: 1, snapshot: snapshot))
        #expect(peer.node.lastIndex == 5)
        #expect(peer.node.committedIndex == 3)
        let rd = peer.handleReady()
        #expect(rd.snapshot == nil, "nothing to install: we have the entries")
        #expect(rd.messages == [Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 3)])
    }

    @Test("§7 'the follower discards its entire log; it is all superseded by the snapshot'")
    func conflictingLogIsReplacedBySnapshot() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 2], term: 3)
        let conf = ConfState(voters: [1, 2, 3])
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 5, term: 3, confState: conf), data: [1])
        peer.node.step(Message(kind: .snapshot, from: 1, to: 2, term: 3, snapshot: snapshot))
        let rd = peer.handleReady()
        #expect(rd.snapshot == snapshot)
        #expect(rd.hardState?.commit == 5)
        #expect(rd.messages == [Message(kind: .appendResponse, from: 2, to: 1, term: 3, index: 5)])
        #expect(peer.node.firstIndex == 6)
        #expect(peer.node.lastIndex == 5)
        #expect(peer.node.appliedIndex == 5)
        #expect(peer.storage.firstIndex() == 6)
    }

    @Test("a snapshot older than the commit index is ignored")
    func staleSnapshotIgnored() {
        let peer = Peer(id: 2, voters: [1, 2, 3], logTerms: [1, 1, 1, 1], term: 1, commit: 4)
        let snapshot = Snapshot(metadata: SnapshotMetadata(index: 2, term: 1, confState: ConfState(voters: [1, 2, 3])))
        peer.node.step(Message(kind: .snapshot, from: 1, to: 2, term: 1, snapshot: snapshot))
        let rd = peer.handleReady()
        #expect(rd.snapshot == nil)
        #expect(rd.messages == [Message(kind: .appendResponse, from: 2, to: 1, term: 1, index: 4)])
    }

    @Test("a restarted node resumes from its snapshot and replays only later committed entries")
    func restartFromSnapshot() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        for i in 0..<5 { try! cluster[1].propose([UInt8(i)]) }
        cluster.stabilize()
        let index = compact(cluster, 2)
        try! cluster[1].propose([50])
        cluster.stabilize()
        cluster.restart(2)
        #expect(cluster[2].firstIndex == index + 1)
        #expect(cluster[2].appliedIndex == index)
        let rd = cluster[2].ready()
        #expect(rd.committedEntries.map(\.data) == [[50]])
        cluster[2].advance(rd)
    }

    @Test("a failed snapshot transfer sends the leader back to probing")
    func reportSnapshotFailure() {
        let cluster = LocalCluster(count: 3)
        cluster.elect(1)
        cluster.isolate(3)
        for i in 0..<4 { try! cluster[1].propose([UInt8(i)]) }
        cluster.stabilize()
        _ = compact(cluster, 1)
        cluster.heal()
        // Run until the leader sends the snapshot, and lose it.
        var lost = false
        for _ in 0..<30 where !lost {
            cluster[1].tick()
            for _ in 0..<5 {
                cluster.processReadies()
                let batch = cluster.pending
                cluster.pending = []
                for m in batch {
                    if m.kind == .snapshot { lost = true } else { cluster[m.to].step(m) }
                }
            }
        }
        #expect(lost)
        #expect(cluster[1].progress(of: 3)?.state == .snapshot)
        cluster[1].reportSnapshot(to: 3, failed: true)
        #expect(cluster[1].progress(of: 3)?.state == .probe)
        cluster.tick(3)
        #expect(cluster[3].committedIndex == cluster[1].committedIndex)
    }
}
