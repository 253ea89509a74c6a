import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing
import Txn

// Splits over real processes; part of the serialized cluster suite.
extension ClusterTests {
    @Test("regions split repeatedly under concurrent writers: no client error, every key scanned exactly once")
    func splitsUnderLoad() throws {
        // 16 KiB regions: a few hundred small writes each; the writers' keys spread over them.
        let cluster = try LocalCluster(nodeArguments: ["--region-max-size", "16K"])
        let writers = BackgroundWriters(cluster: cluster, writers: 4)
        // Splits asked for by hand too, at keys the writers are writing around.
        let splitter = try cluster.client()
        for key in ["w1", "w2", "w3", "w1-5"] {
            usleep(300_000)
            let regions = try splitter.split(at: bytes(key))
            #expect(regions.count == 2 && regions[1].startKey == bytes(key), "\(regions)")
        }
        LocalCluster.wait(timeout: 40) {
            writers.acknowledgedCount >= 1_500 && ((try? cluster.schedulerClient().regions().count) ?? 0) >= 8
        }
        let result = writers.stop()
        #expect(result.failures.isEmpty, "\(result.failures.prefix(5))")
        #expect(result.unknown.isEmpty, "\(result.unknown.prefix(5))")
        // The scheduler's regions tile the key space: sorted, adjacent, from the first key to the last. A split
        // still under way (the split checker may cut once more after the writers stopped) leaves a gap until
        // the new region's first leader reports it, so wait for the map to settle.
        let tiles: @Sendable ([SchedulerClient.RegionRecord]) -> Bool = { regions in
            regions.first?.region.startKey == [] && regions.last?.region.endKey == []
                && zip(regions, regions.dropFirst()).allSatisfy { $0.region.endKey == $1.region.startKey }
        }
        #expect(LocalCluster.wait(timeout: 20) {
            guard let regions = try? cluster.schedulerClient().regions() else { return false }
            return tiles(regions)
        })
        let regions = try cluster.schedulerClient().regions()
        #expect(regions.count >= 8, "only \(regions.count) regions after \(result.acknowledged.count) writes")
        #expect(tiles(regions), "\(regions.map { ($0.region.startKey, $0.region.endKey) })")
        // A scan across every region returns each key once, in order, with its last acknowledged value.
        let reader = try cluster.client()
        var seen: [String] = []
        try reader.scan(ScanRequest(start: bytes("w"), end: bytes("x")), maxRows: nil) { row in
            let key = String(decoding: row.key, as: UTF8.self)
            #expect(row.value == result.acknowledged[key].map(bytes), "\(key)")
            seen.append(key)
            return true
        }
        #expect(seen.count == result.acknowledged.count)
        #expect(seen == seen.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(Set(seen).count == seen.count)
        // Reverse, in pages of 7: the same keys backwards.
        var backwards: [String] = []
        try reader.scan(ScanRequest(start: bytes("w"), end: bytes("x"), limit: 7, reverse: true), maxRows: nil) { row in
            backwards.append(String(decoding: row.key, as: UTF8.self))
            return true
        }
        #expect(backwards == seen.reversed())
        // Every replica applied every split (the split checker may still cut a region after the writers
        // stopped: compare with the scheduler's count at the time).
        #expect(LocalCluster.wait(timeout: 20) {
            guard let count = try? cluster.schedulerClient().regions().count else { return false }
            return (0..<3).allSatisfy { (try? cluster.stat("regions", of: $0)) == count }
        })
        // A request with the parent's pre-split epoch is refused with the regions that now cover its range.
        let first = try #require(regions.first)
        let leaderIndex = try #require(try cluster.leaderIndex())
        let stale = Request.inRegion(
            RegionContext(regionID: first.region.id, epoch: RegionEpoch(confVersion: first.region.epoch.confVersion, version: 1)),
            .get(key: bytes("a")))
        guard case .error(let refusal) = try cluster.nodeClient(leaderIndex).connection.call(stale) else {
            Issue.record("a pre-split epoch was served")
            return
        }
        #expect(refusal.code == .epochNotMatch)
        #expect(refusal.message.components(separatedBy: " id=").count >= 2, "\(refusal.message)")
    }

    @Test("splits and a node restart during kvbench check: the history stays linearizable")
    func splitsStayLinearizable() throws {
        let cluster = try LocalCluster()
        let done = DispatchSemaphore(value: 0)
        let splitFailures = SharedList()
        Thread.detachNewThread {
            defer { done.signal() }
            guard let client = try? cluster.client() else { return }
            for key in ["check-2", "check-1", "check-3"] {
                usleep(1_500_000)
                do { _ = try client.split(at: bytes(key)) } catch { splitFailures.append("\(key): \(error)") }
            }
        }
        let result = try cluster.runConsistencyCheck()
        done.wait()
        #expect(splitFailures.items.isEmpty, "\(splitFailures.items)")
        #expect(result.status == 0, "\(result.text) \(result.standardError)")
        #expect(result.text.contains("\"verdict\":\"linearizable\""), "\(result.text)")
        #expect(try cluster.schedulerClient().regions().count == 4)
        // The split regions survive a restart of every node (the split is durable, nothing replays across it).
        for index in 0..<3 { cluster.killNode(index) }
        for index in 0..<3 { try cluster.startNode(index) }
        let client = try cluster.client()
        try client.put(bytes("check-3"), bytes("after"))
        #expect(try client.get(bytes("check-3")) == bytes("after"))
        #expect(LocalCluster.wait(timeout: 20) { (0..<3).allSatisfy { (try? cluster.stat("regions", of: $0)) == 4 } })
    }
}

extension ClusterTests {
    @Test("kvctl batch through a cluster of four regions: requests pipelined per node, answers in input order")
    func batchAcrossRegions() throws {
        let cluster = try LocalCluster()
        let client = try cluster.client()
        // A client whose cache still holds the one region from before the splits.
        let stale = try cluster.client()
        try stale.scan(ScanRequest(start: bytes("k"), end: bytes("l"))) { _ in true }
        // And a transactional one, which wrote t0 ... t7 while the transactional key space was one region.
        let staleTxn = cluster.txnClient()
        defer { staleTxn.close() }
        let setup = try staleTxn.begin()
        for i in 0..<8 { setup.put(bytes("t\(i)"), bytes("\(i)")) }
        try setup.commit()
        for key in ["k2", "k4", "k6"] { _ = try client.split(at: bytes(key)) }
        for key in ["t2", "t4", "t6"] { _ = try client.split(at: TxnKeys.base(bytes(key))) }
        var input = ""
        for i in 0..<80 { input += "put k\(i % 8)-\(i) v\(i)\n" }
        for i in 0..<80 { input += "get k\(i % 8)-\(i)\n" }
        input += "put k1-x 1\nput k1-x 2\nget k1-x\ndelete k7-7\nget k7-7\nscan k3 k5 --keys-only --limit 3\n"
        let result = try runCommand(
            BuiltProducts.path(of: "kvctl"), ["batch", "--sched", cluster.schedulerSocket],
            standardInput: Array(input.utf8), directory: cluster.directory.path, timeout: 60)
        let lines = result.text.split(separator: "\n").map(String.init)
        #expect(result.status == 0, "\(result.standardError) \(lines.filter { $0.hasPrefix("ERR") }.prefix(3))")
        #expect(lines.count == 80 + 80 + 3 + 2 + 4, "\(lines.suffix(8))")
        guard lines.count == 80 + 80 + 3 + 2 + 4 else { return }
        #expect(lines[0..<80].allSatisfy { $0 == "OK" })
        for i in 0..<80 { #expect(lines[80 + i] == "VALUE v\(i)") }
        #expect(Array(lines[160..<165]) == ["OK", "OK", "VALUE 2", "OK 1", "NIL"])
        #expect(Array(lines[165...]) == ["ROW k3-11", "ROW k3-19", "ROW k3-27", "END MORE"])
        // The stale client learns the splits from EPOCH_NOT_MATCH and bounds its pages again: every key once,
        // backwards and forwards (backwards first, when its cached region is the last one and wrong).
        var expected = Set((0..<80).map { "k\($0 % 8)-\($0)" })
        expected.insert("k1-x")
        expected.remove("k7-7")
        let sorted = expected.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        for reverse in [true, false] {
            var seen: [String] = []
            try stale.scan(ScanRequest(start: bytes("k"), end: bytes("l"), limit: 7, reverse: reverse)) { row in
                seen.append(String(decoding: row.key, as: UTF8.self))
                return true
            }
            #expect(seen == (reverse ? sorted.reversed() : sorted), "reverse: \(reverse)")
        }
        let rows = try staleTxn.begin().scan(from: bytes("t"), to: bytes("u"))
        #expect(rows.map { String(decoding: $0.key, as: UTF8.self) } == (0..<8).map { "t\($0)" })
        // A node bounds a raw scan to the region it names, whatever end the request asks for.
        var bounded: [String]?
        LocalCluster.wait(timeout: 10) {
            guard let first = try? cluster.schedulerClient().regions().first, let leader = try? cluster.leaderIndex(),
                let answer = try? cluster.nodeClient(leader).connection.call(
                    .inRegion(RegionContext(first.region), .scan(ScanRequest(start: bytes("k"), end: bytes("l"), limit: 1_000)))),
                case .rows(let rows, _) = answer
            else { return false }
            bounded = rows.map { String(decoding: $0.key, as: UTF8.self) }
            return true
        }
        #expect(bounded == sorted.filter { $0.utf8.lexicographicallyPrecedes("k2".utf8) })
        // One burst on one connection with writes and reads for two regions of the same leader: the node
        // submits each region's run on its own (it used to refuse the burst as spanning regions).
        var burstAnswers: [Response] = []
        LocalCluster.wait(timeout: 10) {
            guard let regions = try? cluster.schedulerClient().regions(),
                // Raw regions only (the transactional key space, from byte 0xFF, takes no raw writes).
                let led = Dictionary(grouping: regions.filter { !$0.leaderAddress.isEmpty && $0.region.startKey.first != 0xFF }, by: \.leaderAddress)
                    .first(where: { $0.value.count >= 2 }),
                let connection = try? LineConnection(to: .unix(path: led.key))
            else { return false }
            let (left, right) = (led.value[0].region, led.value[1].region)
            let leftKey = left.startKey + bytes("burst")
            let rightKey = right.startKey + bytes("burst")
            let burst: [Request] = [
                .inRegion(RegionContext(left), .put(key: leftKey, value: bytes("L"))),
                .inRegion(RegionContext(right), .put(key: rightKey, value: bytes("R"))),
                .inRegion(RegionContext(left), .get(key: leftKey)),
                .inRegion(RegionContext(right), .get(key: rightKey)),
            ]
            guard (try? connection.send(burst.flatMap(\.encoded))) != nil else { return false }
            burstAnswers = burst.compactMap { _ in try? connection.readResponse() }
            // A leader that moved meanwhile answers NOT_LEADER: ask again.
            return !burstAnswers.contains { if case .error(let error) = $0 { return error.code == .notLeader }; return false }
        }
        #expect(burstAnswers == [.ok, .ok, .value(bytes("L")), .value(bytes("R"))])
    }
}

extension ClusterTests {
    @Test("a read pipelined behind a write on one connection sees it, with Raft messages delayed")
    func readYourWritesPipelined() throws {
        let cluster = try LocalCluster()
        try cluster.waitForReplicas(3, timeout: 30)
        // Random delays let a ReadIndex round (heartbeats) finish before the write's append commits.
        for index in 0..<3 { try cluster.inject(FaultInjection(maxDelayMilliseconds: 20), into: index) }
        var stale: [String] = []
        var checked = 0
        for i in 0..<40 {
            guard let leader = try cluster.leaderIndex(), let region = try cluster.schedulerClient().regions().first?.region,
                let connection = try? LineConnection(to: .unix(path: cluster.nodeSocket(leader)))
            else { continue }
            let context = RegionContext(region)
            // Two bursts, so two submissions: the read's only waits on the write's through the node.
            try connection.send(Request.inRegion(context, .put(key: bytes("ryw"), value: bytes("\(i)"))).encoded)
            usleep(500)
            try connection.send(Request.inRegion(context, .get(key: bytes("ryw"))).encoded)
            let (put, get) = (try connection.readResponse(), try connection.readResponse())
            guard put == .ok else { continue }  // a leader change meanwhile: nothing to check
            checked += 1
            if get != .value(bytes("\(i)")) { stale.append("wrote \(i), read \(get)") }
        }
        #expect(checked >= 20)
        #expect(stale.isEmpty, "\(stale.prefix(5))")
    }
}
