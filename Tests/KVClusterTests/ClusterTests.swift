import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing

/// Writers on threads of their own, each with its own routed client, recording what was acknowledged.
final class BackgroundWriters: @unchecked Sendable {
    private let lock = NSLock()
    private var acknowledged: [String: String] = [:]
    private var unknown: Set<String> = []
    private var failures: [String] = []
    private var stopFlag = false
    private let group = DispatchGroup()

    init(cluster: LocalCluster, writers: Int, prefix: String = "w", deadline: Double = 15) {
        for writer in 0..<writers {
            group.enter()
            Thread.detachNewThread { [self] in
                defer { group.leave() }
                let client = try? cluster.client(deadline: deadline)
                var n = 0
                while !lock.withLock({ stopFlag }), let client {
                    let key = "\(prefix)\(writer)-\(n)"
                    let value = "value-\(writer)-\(n)"
                    n += 1
                    do {
                        try client.put(Array(key.utf8), Array(value.utf8))
                        lock.withLock { acknowledged[key] = value }
                    } catch let error as KVClientError where error.kind == .outcomeUnknown {
                        lock.withLock { _ = unknown.insert(key) }
                    } catch {
                        lock.withLock { failures.append("\(key): \(error)") }
                        usleep(50_000)
                    }
                }
            }
        }
    }

    var acknowledgedCount: Int { lock.withLock { acknowledged.count } }

    /// Stops the writers and returns what they saw.
    func stop() -> (acknowledged: [String: String], unknown: Set<String>, failures: [String]) {
        lock.withLock { stopFlag = true }
        _ = group.wait(timeout: .now() + 60)
        return lock.withLock { (acknowledged, unknown, failures) }
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

// One serialized suite: each test runs its own kvsched and three kvnodes, and two such clusters at once on a
// 2-core machine would mostly measure each other.
@Suite("Replicated cluster", .serialized, .timeLimit(.minutes(4)))
struct ClusterTests {
    @Test("writes through kvsched routing from concurrent clients are readable and replicated to every node")
    func routedReadsAndWrites() throws {
        let cluster = try LocalCluster()
        let writers = BackgroundWriters(cluster: cluster, writers: 4)
        LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= 400 }
        let result = writers.stop()
        #expect(result.acknowledged.count >= 400)
        #expect(result.unknown.isEmpty)
        #expect(result.failures.isEmpty, "\(result.failures.prefix(5))")
        let reader = try cluster.client()
        for (key, value) in result.acknowledged { #expect(try reader.get(bytes(key)) == bytes(value)) }
        var scanned = 0
        try reader.scan(ScanRequest(start: bytes("w"), end: bytes("x")), maxRows: nil) { _ in
            scanned += 1
            return true
        }
        #expect(scanned == result.acknowledged.count)
        // Every replica applies the same writes.
        #expect(LocalCluster.wait(timeout: 20) {
            (0..<3).allSatisfy { (try? cluster.stat("keys", of: $0)) == result.acknowledged.count }
        })
        // Some of them were applied and acknowledged before the log write of the round that applied them (they
        // were committed and durable here already), and every acknowledged write read back above.
        #expect(try (0..<3).reduce(0) { $0 + (try cluster.stat("applied_before_sync", of: $1)) } > 0)
        // A request made against an older epoch is refused with the region as it is now.
        let region = try #require(try cluster.schedulerClient().regions().first)
        let leaderIndex = try #require(try cluster.leaderIndex())
        let stale = Request.inRegion(RegionContext(regionID: region.region.id, epoch: RegionEpoch(confVersion: 1, version: 1)), .get(key: bytes("w0-0")))
        let refused = try cluster.nodeClient(leaderIndex).connection.call(stale)
        guard case .error(let refusal) = refused else { Issue.record("a stale epoch was served: \(refused)"); return }
        #expect(refusal.code == .epochNotMatch)
        #expect(refusal.message.contains("conf_ver=\(region.region.epoch.confVersion)"))
        // Raft messages from another cluster's node (say, on a reused address) are refused.
        let foreign = Request.raft(RaftTransferChunk(fromStore: 99, sequence: 0, isLast: true, payload: [], clusterID: 12_345))
        guard case .error(let foreignRefusal) = try cluster.nodeClient(leaderIndex).connection.call(foreign) else {
            Issue.record("a foreign cluster's Raft batch was accepted")
            return
        }
        #expect(foreignRefusal.message.contains("belongs to cluster 12345"))
        // Sent one-way (`reply=0`, as stores stream), the refusal closes the connection instead of answering;
        // a one-way chunk that is accepted gets no answer either (the PING behind it is answered first).
        let streamed = try LineConnection(to: NodeAddress(parsing: cluster.nodeSocket(leaderIndex)), timeout: 10)
        try streamed.send(Request.raft(RaftTransferChunk(
            fromStore: 99, sequence: 0, isLast: false, payload: [1], expectsReply: false)))
        #expect(try streamed.call(.ping) == .pong)
        try streamed.send(Request.raft(RaftTransferChunk(
            fromStore: 99, sequence: 0, isLast: true, payload: [], clusterID: 12_345, expectsReply: false)))
        #expect(throws: KVClientError.self) { try streamed.readResponse() }  // closed, nothing written
        // A batch is reassembled from one connection's chunks only: a chunk continuing another connection's
        // batch (as a late one of a connection the sender has since replaced) is refused, not spliced in.
        // (The halves of an empty batch, 4 bytes, would decode fine if spliced.)
        let node = try NodeAddress(parsing: cluster.nodeSocket(leaderIndex))
        let first = try LineConnection(to: node, timeout: 10)
        let second = try LineConnection(to: node, timeout: 10)
        func half(_ sequence: UInt64) -> Request {
            .raft(RaftTransferChunk(fromStore: 99, sequence: sequence, isLast: sequence == 1, payload: [0, 0]))
        }
        #expect(try first.call(half(0)) == .ok)
        guard case .error(let spliced) = try second.call(half(1)) else {
            Issue.record("a chunk from another connection completed the batch")
            return
        }
        #expect(spliced.message.contains("out of sequence"))
        #expect(try first.call(half(0)) == .ok)
        #expect(try first.call(half(1)) == .ok)  // one connection's halves make the batch
        // A follower refuses reads and writes with the leader's address.
        let leader = try #require(try cluster.leaderIndex())
        let follower = (leader + 1) % 3
        do {
            _ = try cluster.nodeClient(follower).get(bytes("w0-0"))
            Issue.record("a follower answered a read")
        } catch let error as KVClientError {
            #expect(error.kind == .server(.notLeader))
            #expect(error.message.contains("leader_address=\(ProtocolToken.encodeString(bytes(cluster.nodeSocket(leader))))"))
        }
    }

    @Test("kill -9 of the leader while clients write: writes go on under a new leader, nothing acknowledged is lost")
    func leaderKilled() throws {
        let cluster = try LocalCluster()
        let writers = BackgroundWriters(cluster: cluster, writers: 3)
        LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= 200 }
        let leader = try #require(try cluster.leaderIndex())
        cluster.killNode(leader)
        let beforeKill = writers.acknowledgedCount
        #expect(LocalCluster.wait(timeout: 30) { writers.acknowledgedCount >= beforeKill + 200 })
        let result = writers.stop()
        #expect(result.acknowledged.count >= beforeKill + 200, "writes did not resume after the leader died")
        let reader = try cluster.client()
        var missing: [String] = []
        for (key, value) in result.acknowledged where try reader.get(bytes(key)) != bytes(value) { missing.append(key) }
        #expect(missing.isEmpty, "acknowledged writes lost: \(missing.prefix(10))")
        // The killed node comes back and catches up.
        try cluster.startNode(leader)
        #expect(LocalCluster.wait(timeout: 30) {
            (try? cluster.stat("applied_index", of: leader)) == (try? cluster.stat("applied_index", of: (leader + 1) % 3))
        })
    }

    @Test("all nodes killed with -9 and restarted: nothing acknowledged is lost (commit indexes written late included)")
    func wholeClusterKilled() throws {
        let cluster = try LocalCluster()
        // A short deadline: once every node is dead the writers only wait out their last request.
        let writers = BackgroundWriters(cluster: cluster, writers: 3, deadline: 2)
        LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= 300 }
        // Rounds that only moved a commit index wrote no log (their hard state waits for the next write), so
        // the kill below may leave a log whose commit index is behind what LMDB applied.
        let roundsWithoutSync = (0..<3).map { (try? cluster.stat("rounds_without_sync", of: $0)) ?? 0 }.reduce(0, +)
        #expect(roundsWithoutSync > 0, "no round skipped its log sync")
        for index in 0..<3 { cluster.killNode(index) }
        let result = writers.stop()
        for index in 0..<3 {
            let check = try runCommand(BuiltProducts.path(of: "kvdump"), ["check", cluster.nodeData(index)], directory: cluster.directory.path)
            #expect(check.status == 0, "kvdump check of node \(index): \(check.standardOutput) \(check.standardError)")
        }
        for index in 0..<3 { try cluster.startNode(index) }
        let reader = try cluster.client(deadline: 30)
        var missing: [String] = []
        for (key, value) in result.acknowledged where try reader.get(bytes(key)) != bytes(value) { missing.append(key) }
        #expect(result.acknowledged.count >= 300)
        #expect(missing.isEmpty, "acknowledged writes lost: \(missing.prefix(10))")
    }

    @Test("a node down while the log moves on past what it has catches up by snapshot")
    func catchUpBySnapshot() throws {
        let cluster = try LocalCluster(nodeArguments: ["--max-log-lag", "50", "--flush-interval", "100"])
        let leader = try #require(try cluster.leaderIndex())
        let follower = (leader + 1) % 3
        cluster.killNode(follower)
        let client = try cluster.client()
        for i in 0..<400 { try client.put(bytes("snap-\(i)"), bytes("v\(i)")) }
        // Give the leader a flush, so its log is compacted past the follower's position.
        usleep(500_000)
        try client.put(bytes("snap-last"), bytes("x"))
        try cluster.startNode(follower)
        #expect(LocalCluster.wait(timeout: 30) { (try? cluster.stat("keys", of: follower)) == 401 })
        #expect(try cluster.stat("snapshots_installed", of: follower) >= 1)
    }

    @Test("a partitioned minority refuses, the majority serves, and the minority catches up after healing")
    func minorityPartition() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        try client.put(bytes("before"), bytes("1"))
        let leader = try #require(try cluster.leaderIndex())
        let stores = try (0..<3).map { try cluster.storeID(of: $0) }
        let others = (0..<3).filter { $0 != leader }
        // Cut the leader off both ways.
        try cluster.inject(FaultInjection(isolatedStores: Set(others.map { stores[$0] })), into: leader)
        for index in others { try cluster.inject(FaultInjection(isolatedStores: [stores[leader]]), into: index) }
        // The majority elects a new leader and takes writes (the client follows NOT_LEADER hints). A write the
        // cut-off leader took just before stepping down has an unknown outcome, and is reported so.
        let majorityClient = try cluster.client(deadline: 20)
        var acknowledged = 0
        var attempts = 0
        while acknowledged < 50 && attempts < 200 {
            attempts += 1
            let key = bytes("during-\(attempts)")
            let result = Result { () throws(KVClientError) in try majorityClient.put(key, key) }
            switch result {
            case .success: acknowledged += 1
            case .failure(let error) where error.kind == .outcomeUnknown: continue
            case .failure(let error): throw error
            }
        }
        #expect(acknowledged == 50)
        let majority = others[0]
        // The cut-off node no longer leads: it refuses (after check-quorum made it step down).
        #expect(LocalCluster.wait(timeout: 10) {
            do {
                _ = try cluster.nodeClient(leader).get(bytes("before"))
                return false
            } catch let error as KVClientError {
                return error.kind == .server(.notLeader)
            } catch {
                return false
            }
        })
        // Heal: the old leader catches up with the majority.
        for index in 0..<3 { try cluster.inject(FaultInjection(), into: index) }
        #expect(LocalCluster.wait(timeout: 30) {
            guard let caughtUp = try? cluster.stat("keys", of: leader), let expected = try? cluster.stat("keys", of: majority) else {
                return false
            }
            return caughtUp == expected && expected >= 51
        })
    }

    @Test("kvsched restarted: routes stay cached while it is down, timestamps never go back")
    func schedulerRestart() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        try client.put(bytes("k1"), bytes("v1"))
        let before = try cluster.schedulerClient().timestamps()
        let leader = try #require(try cluster.leaderIndex())
        cluster.killScheduler()
        // Cached route: the write goes straight to the leader.
        try client.put(bytes("k2"), bytes("v2"))
        #expect(try client.get(bytes("k1")) == bytes("v1"))
        // A follower restarted meanwhile serves anyway: it learns its peers' addresses from their messages.
        let follower = (leader + 1) % 3
        cluster.killNode(follower)
        try cluster.startNode(follower)
        try client.put(bytes("k3"), bytes("v3"))
        #expect(LocalCluster.wait(timeout: 20) { (try? cluster.stat("keys", of: follower)) == 3 })
        try cluster.startScheduler()
        let after = try cluster.schedulerClient().timestamps()
        #expect(after > before)
        // Heartbeats re-sync the region map and the stores.
        #expect(LocalCluster.wait(timeout: 15) {
            guard let region = try? cluster.schedulerClient().regions().first else { return false }
            return region.leaderStoreID != 0 && region.region.peers.count == 3
        })
        #expect(try cluster.client().get(bytes("k2")) == bytes("v2"))
    }

    @Test("kvctl region transfer-leader moves leadership to the chosen store; writes go on")
    func leaderTransfer() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        try client.put(bytes("before"), bytes("1"))
        let region = try #require(try cluster.schedulerClient().regions().first)
        let leader = try #require(try cluster.leaderIndex())
        let target = (leader + 1) % 3
        let targetStore = try cluster.storeID(of: target)
        let result = try runCommand(
            BuiltProducts.path(of: "kvctl"),
            ["region", "transfer-leader", String(region.region.id), String(targetStore), "--wait", "20", "--sched", cluster.schedulerSocket],
            directory: cluster.directory.path)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try cluster.leaderIndex() == target)
        try client.put(bytes("after"), bytes("2"))
        #expect(try client.get(bytes("before")) == bytes("1"))
        #expect(LocalCluster.wait(timeout: 10) { (try? cluster.schedulerClient().operators().isEmpty) == true })
    }

    @Test("kvctl store remove drains the leader's store while clients write: its replica moves, no client error")
    func storeDrain() throws {
        let cluster = try LocalCluster(nodes: 4)
        let writers = BackgroundWriters(cluster: cluster, writers: 2)
        LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= 100 }
        let leader = try #require(try cluster.leaderIndex())
        let store = try cluster.storeID(of: leader)
        let result = try runCommand(
            BuiltProducts.path(of: "kvctl"),
            ["store", "remove", String(store), "--wait", "60", "--sched", cluster.schedulerSocket],
            directory: cluster.directory.path, timeout: 90)
        #expect(result.status == 0, "\(result.standardError)")
        let before = writers.acknowledgedCount
        #expect(LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= before + 50 })
        let outcome = writers.stop()
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        let region = try #require(try cluster.schedulerClient().regions().first)
        #expect(region.region.peers.count == 3)
        #expect(!region.region.peers.contains { $0.storeID == store })
        #expect(region.leaderStoreID != store)
        // The drained node dropped its peer and keeps it dropped: messages still in flight do not recreate
        // it (tombstone), and neither does a restart.
        #expect(LocalCluster.wait(timeout: 10) { (try? cluster.stat("regions", of: leader)) == 0 })
        usleep(1_000_000)
        #expect(try cluster.stat("regions", of: leader) == 0)
        cluster.killNode(leader)
        try cluster.startNode(leader)
        #expect(try cluster.stat("regions", of: leader) == 0)
        let reader = try cluster.client()
        var missing: [String] = []
        for (key, value) in outcome.acknowledged where try reader.get(bytes(key)) != bytes(value) { missing.append(key) }
        #expect(missing.isEmpty, "acknowledged writes lost: \(missing.prefix(10))")
    }

    @Test("a node down past the max store down time: its replica is replaced on the spare node")
    func downStoreReplaced() throws {
        let cluster = try LocalCluster(nodes: 4, schedulerArguments: ["--max-store-down-time", "4s"])
        let client = try cluster.client()
        try client.put(bytes("k"), bytes("v"))
        let region = try #require(try cluster.schedulerClient().regions().first)
        let leader = try #require(try cluster.leaderIndex())
        let spare = try #require((0..<4).first { index in
            let store = try? cluster.storeID(of: index)
            return !region.region.peers.contains { $0.storeID == store }
        })
        let victim = (0..<4).first { $0 != leader && $0 != spare }!
        let victimStore = try cluster.storeID(of: victim)
        let spareStore = try cluster.storeID(of: spare)
        cluster.killNode(victim)
        #expect(LocalCluster.wait(timeout: 30) {
            guard let now = try? cluster.schedulerClient().regions().first else { return false }
            return now.region.peers.count == 3 && !now.region.peers.contains { $0.storeID == victimStore }
                && now.region.peers.contains { $0.storeID == spareStore }
        })
        #expect(LocalCluster.wait(timeout: 20) { (try? cluster.stat("keys", of: spare)) == 1 })
        try client.put(bytes("k2"), bytes("v2"))
    }

    @Test("10 % of Raft messages dropped and random delays: kvbench check finds the history linearizable")
    func lossyNetwork() throws {
        let cluster = try LocalCluster()
        for index in 0..<3 { try cluster.inject(FaultInjection(dropRate: 0.1, maxDelayMilliseconds: 20), into: index) }
        let result = try cluster.runConsistencyCheck()
        #expect(result.status == 0, "\(result.text) \(result.standardError)")
        #expect(result.text.contains("\"verdict\":\"linearizable\""), "\(result.text)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput)) as? [String: Any]
        #expect(((object?["completed"] as? Int) ?? 0) >= 100, "too few operations completed: \(result.text)")
    }
}
