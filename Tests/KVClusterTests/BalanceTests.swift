import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing

// Balance scheduling over real processes; part of the serialized cluster suite.
extension ClusterTests {
    @Test("a fourth node joins: replicas and leaders spread until counts differ by at most one, data intact")
    func fourthNodeIsBalanced() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        // Eight regions of a few keys each.
        for key in ["b", "c", "d", "e", "f", "g", "h"] { _ = try client.split(at: bytes(key)) }
        var written: [String: String] = [:]
        for region in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            for n in 0..<20 {
                written["\(region)\(n)"] = "value-\(region)-\(n)"
                try client.put(bytes("\(region)\(n)"), bytes("value-\(region)-\(n)"))
            }
        }
        let scheduler = try cluster.schedulerClient()
        #expect(try scheduler.regions().count == 8)
        // Leader balancing among the three first: every store leads two or three.
        let balanced = { (stores: Int) -> Bool in
            guard let list = try? cluster.schedulerClient().stores(), list.count == stores,
                let regions = try? cluster.schedulerClient().regions(), regions.count == 8,
                regions.allSatisfy({ $0.region.peers.count == 3 && $0.leaderStoreID != 0 }),
                (try? cluster.schedulerClient().operators().isEmpty) == true
            else { return false }
            let replicas = list.map(\.regionCount)
            let leaders = list.map(\.leaderCount)
            return replicas.max()! - replicas.min()! <= 1 && leaders.max()! - leaders.min()! <= 1
        }
        #expect(LocalCluster.wait(timeout: 60) { balanced(3) }, "\(String(describing: try? scheduler.stores()))")
        let joined = try cluster.addNode()
        let started = Date()
        #expect(LocalCluster.wait(timeout: 90) { balanced(4) }, "\(String(describing: try? scheduler.stores()))")
        let newStore = try cluster.storeID(of: joined)
        let onNew = try #require(try scheduler.stores().first { $0.descriptor.id == newStore })
        #expect(onNew.regionCount == 6 && onNew.leaderCount == 2, "\(onNew)")
        print("fourth node balanced after \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
        for (key, value) in written { #expect(try client.get(bytes(key)) == bytes(value), "\(key)") }
        // The node that joined holds exactly its regions' keys, no more (removed replicas destroyed their data).
        #expect(LocalCluster.wait(timeout: 20) {
            let expected = (try? cluster.schedulerClient().regions())?.filter { $0.region.peer(onStore: newStore) != nil }.count ?? -1
            return (try? cluster.stat("keys", of: joined)) == expected * 20
        })
        for index in 0..<3 {
            let store = try cluster.storeID(of: index)
            let held = try scheduler.regions().filter { $0.region.peer(onStore: store) != nil }.count
            #expect(LocalCluster.wait(timeout: 20) { (try? cluster.stat("keys", of: index)) == held * 20 }, "node \(index)")
        }
        // Schedulers can be listed, turned off and on (and stay so).
        let names = try scheduler.schedulers().compactMap { $0["name"].map { String(decoding: $0, as: UTF8.self) } }
        #expect(names == ["balance-leader", "balance-region"])
        #expect(try scheduler.setScheduler("balance-leader", enabled: false))
        #expect(try !scheduler.setScheduler("balance-leader", enabled: false))
        #expect(try scheduler.schedulers().first?["enabled"] == bytes("0"))
        #expect(throws: KVClientError.self) { try scheduler.setScheduler("balance-everything", enabled: true) }
    }
}

extension ClusterTests {
    @Test("leader transfers and a store drain (conf changes) over a lossy network: kvbench check stays linearizable")
    func membershipChangesOverLossyNetwork() throws {
        let cluster = try LocalCluster(nodes: 4)
        for index in 0..<4 { try cluster.inject(FaultInjection(dropRate: 0.1, maxDelayMilliseconds: 20), into: index) }
        let scheduler = try cluster.schedulerClient()
        let region = try #require(try scheduler.regions().first)
        let storeIDs = region.region.peers.map(\.storeID)
        let drained = try #require(storeIDs.first { $0 != region.leaderStoreID })
        let problems = SharedList()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            defer { done.signal() }
            guard let control = try? cluster.schedulerClient() else { return problems.append("no scheduler client") }
            // Leadership moves around the replicas, then a store holding one is drained while it does.
            for (step, store) in storeIDs.enumerated() {
                usleep(1_200_000)
                do { _ = try control.transferLeader(region: region.region.id, to: store) } catch { problems.append("transfer: \(error)") }
                if step == 1 {
                    do { try control.removeStore(drained) } catch { problems.append("remove: \(error)") }
                }
            }
        }
        let result = try cluster.runConsistencyCheck()
        done.wait()
        #expect(result.status == 0, "\(result.text) \(result.standardError)")
        #expect(result.text.contains("\"verdict\":\"linearizable\""), "\(result.text)")
        // Transfers may be refused while another operator runs (CONFLICT); anything else is a problem.
        #expect(problems.items.allSatisfy { $0.contains("CONFLICT") || $0.contains("conflict") }, "\(problems.items)")
        // The drain finishes: three replicas, none on the drained store.
        #expect(LocalCluster.wait(timeout: 60) {
            guard let now = try? cluster.schedulerClient().regions().first else { return false }
            return now.region.peers.count == 3 && !now.region.peers.contains { $0.storeID == drained }
        })
    }
}

extension ClusterTests {
    @Test("several regions: a store drained under writers, then another store down past the down time; every region ends with three replicas on the stores left")
    func manyRegionsDrainAndDownStore() throws {
        let cluster = try LocalCluster(nodes: 5, schedulerArguments: ["--max-store-down-time", "4s"])
        let client = try cluster.client()
        for key in ["w1", "w2", "w3"] { _ = try client.split(at: bytes(key)) }
        let writers = BackgroundWriters(cluster: cluster, writers: 4)
        LocalCluster.wait(timeout: 20) { writers.acknowledgedCount >= 200 }
        let scheduler = try cluster.schedulerClient()
        func settled(without gone: Set<UInt64>) -> Bool {
            guard let regions = try? cluster.schedulerClient().regions(), regions.count == 4,
                (try? cluster.schedulerClient().operators().isEmpty) == true
            else { return false }
            return regions.allSatisfy { entry in
                entry.region.peers.count == 3 && !entry.region.peers.contains { gone.contains($0.storeID) } && entry.leaderStoreID != 0
            }
        }
        // Drain the store of node 1 while the writers go on.
        let drained = try cluster.storeID(of: 1)
        try scheduler.removeStore(drained)
        #expect(LocalCluster.wait(timeout: 60) { settled(without: [drained]) }, "\(describe(cluster))")
        // Then node 2 dies and stays down past the down time: its replicas are replaced too.
        let victim = try cluster.storeID(of: 2)
        cluster.killNode(2)
        #expect(LocalCluster.wait(timeout: 60) { settled(without: [drained, victim]) }, "\(describe(cluster))")
        let outcome = writers.stop()
        // Writes whose leader died with node 2 may be of unknown outcome; none may fail.
        #expect(outcome.failures.isEmpty, "\(outcome.failures.prefix(5))")
        let reader = try cluster.client()
        for (key, value) in outcome.acknowledged { #expect(try reader.get(bytes(key)) == bytes(value), "\(key)") }
    }
}

/// The scheduler's regions and operators in a few lines, for failure messages.
func describe(_ cluster: LocalCluster) -> String {
    guard let scheduler = try? cluster.schedulerClient() else { return "no scheduler" }
    let regions = ((try? scheduler.regions()) ?? []).map { entry in
        "region \(entry.region.id) \(entry.region.epoch.confVersion)/\(entry.region.epoch.version) peers \(entry.region.peers.map { "\($0.id)@\($0.storeID)" }) leader \(entry.leaderStoreID)"
    }
    let operators = ((try? scheduler.operators()) ?? []).map { fields in
        fields.words.joined(separator: " ")
    }
    return (regions + operators).joined(separator: "; ")
}
