import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing
import Txn

// Transactions over real processes; part of the serialized cluster suite.
extension ClusterTests {
    @Test("bank: transfers in read-modify-write transactions across regions while a node is killed and restarted; every snapshot sees the same total")
    func bank() throws {
        let cluster = try LocalCluster()
        let admin = try cluster.client()
        for boundary in ["acct-05", "acct-10", "acct-15"] { _ = try admin.split(at: TxnKeys.base(bytes(boundary))) }
        let accounts = (0..<20).map { String(format: "acct-%02d", $0) }
        let setup = cluster.txnClient()
        let load = try setup.begin()
        for account in accounts { load.put(bytes(account), bytes("100")) }
        try load.commit()

        let schedulerSocket = cluster.schedulerSocket  // the threads capture the address, not the fixture
        let stop = Atomic(false)
        let committed = SharedCounter()
        let conflicts = SharedCounter()
        let errors = SharedList()
        let violations = SharedList()
        let audits = SharedCounter()
        var threads: [Thread] = []
        let finished = DispatchGroup()
        for worker in 0..<4 {
            finished.enter()
            let thread = Thread {
                defer { finished.leave() }
                let client = TxnClient.cluster(scheduler: .unix(path: schedulerSocket), deadline: 10)
                defer { client.close() }
                var random = SeededGenerator(seed: UInt64(worker + 1))
                while !stop.value {
                    let from = accounts.randomElement(using: &random)!
                    var to = accounts.randomElement(using: &random)!
                    while to == from { to = accounts.randomElement(using: &random)! }
                    let amount = Int.random(in: 1...10, using: &random)
                    do throws(KVClientError) {
                        let txn = try client.begin()
                        let fromBalance = Int(String(decoding: try txn.get(bytes(from)) ?? [], as: UTF8.self)) ?? -1
                        let toBalance = Int(String(decoding: try txn.get(bytes(to)) ?? [], as: UTF8.self)) ?? -1
                        guard fromBalance >= 0, toBalance >= 0 else {
                            violations.append("unreadable balance \(from)=\(fromBalance) \(to)=\(toBalance)")
                            continue
                        }
                        guard fromBalance >= amount else { continue }
                        txn.put(bytes(from), bytes(String(fromBalance - amount)))
                        txn.put(bytes(to), bytes(String(toBalance + amount)))
                        try txn.commit()
                        committed.add()
                    } catch where error.kind == .server(.writeConflict) || error.kind == .server(.aborted) {
                        conflicts.add()
                    } catch {
                        errors.append("\(error)")
                        usleep(100_000)
                    }
                }
            }
            threads.append(thread)
        }
        finished.enter()
        threads.append(Thread {
            defer { finished.leave() }
            let client = TxnClient.cluster(scheduler: .unix(path: schedulerSocket), deadline: 10)
            while !stop.value {
                do {
                    let rows = try client.begin().scan(from: bytes("acct-"), to: bytes("acct."), limit: 100)
                    let total = rows.reduce(0) { $0 + (Int(String(decoding: $1.value ?? [], as: UTF8.self)) ?? -100_000) }
                    if rows.count != accounts.count || total != 2_000 {
                        violations.append("a snapshot saw \(rows.count) accounts totalling \(total)")
                    }
                    audits.add()
                } catch {
                    errors.append("audit: \(error)")
                    usleep(100_000)
                }
            }
        })
        for thread in threads { thread.start() }
        LocalCluster.wait(timeout: 20) { committed.value >= 30 }
        cluster.killNode(1)
        let committedBeforeKill = committed.value
        LocalCluster.wait(timeout: 30) { committed.value >= committedBeforeKill + 30 }
        try cluster.startNode(1)
        let committedAfterRestart = committed.value
        LocalCluster.wait(timeout: 30) { committed.value >= committedAfterRestart + 30 }
        stop.value = true
        #expect(finished.wait(timeout: .now() + 60) == .success)

        #expect(violations.items.isEmpty, "\(violations.items.prefix(5))")
        #expect(committed.value >= committedAfterRestart + 30, "\(committed.value) transfers; errors: \(errors.items.prefix(5))")
        #expect(audits.value > 0)
        let final = try setup.begin().scan(from: bytes("acct-"), to: bytes("acct."), limit: 100)
        #expect(final.count == accounts.count)
        #expect(final.reduce(0) { $0 + (Int(String(decoding: $1.value ?? [], as: UTF8.self)) ?? 0) } == 2_000)
        print("bank: \(committed.value) transfers, \(conflicts.value) conflicts, \(audits.value) audits, \(errors.items.count) errors: \(errors.items.prefix(3))")
    }

    @Test("Hermitage-style anomalies: no dirty read, no lost update, no read skew, no fractured read; write skew is allowed; then GC on every replica")
    func anomalies() throws {
        let cluster = try LocalCluster(nodeArguments: ["--gc-interval", "300ms"])
        let admin = try cluster.client()
        _ = try admin.split(at: TxnKeys.base(bytes("m")))  // keys below and above m live in different regions
        let client = cluster.txnClient()
        defer { client.close() }
        let setup = try client.begin()
        for (key, value) in [("dirty", "clean"), ("counter", "0"), ("x", "50"), ("y", "50"), ("oncall-a", "1"), ("oncall-z", "1")] {
            setup.put(bytes(key), bytes(value))
        }
        try setup.commit()

        // Dirty read: a reader never sees a value whose transaction has not committed — it waits for the lock,
        // and after a rollback reads the value before it.
        let transport = try cluster.client()
        let writerStart = try transport.timestamp()
        // One-phase commit is a standalone node's (it is its own timestamp oracle).
        #expect(throws: KVClientError.self) {
            try transport.send(.commitOnePhase(startTS: writerStart, commitTS: 0, mutations: [TxnMutation(.put, key: bytes("dirty"), value: [])]))
        }
        // So is a read at a timestamp the node takes itself; at a given one, TMGET reads like TGET.
        let refusal = #expect(throws: KVClientError.self) { try transport.send(.batchGet(keys: [bytes("dirty")], startTS: 0)) }
        #expect(refusal?.kind == .server(.notSupported))
        let read = try TxnBatchRead(parsing: try transport.send(.batchGet(keys: [bytes("dirty"), bytes("counter")], startTS: writerStart)),
                                    keys: [bytes("dirty"), bytes("counter")])
        #expect(read.rows.map(\.value) == [bytes("clean"), bytes("0")])
        // Sent to a node without a region context, a TMGET whose keys lie in two regions is refused, not
        // answered partly from a region the node may not lead.
        var spanning: Response?
        LocalCluster.wait(timeout: 10) {
            guard let leader = try? cluster.leaderIndex(),
                let answer = try? cluster.nodeClient(leader).connection.call(.txn(.batchGet(keys: [bytes("counter"), bytes("x")], startTS: writerStart)))
            else { return false }
            spanning = answer
            if case .error(let error) = answer, error.code == .notLeader { return false }
            return true
        }
        guard case .error(let spanRefusal) = spanning else { Issue.record("answered: \(String(describing: spanning))"); return }
        #expect(spanRefusal.code == .keyNotInRegion)
        _ = try transport.send(.prewrite(TxnPrewrite(
            primary: bytes("dirty"), startTS: writerStart, ttl: 20_000, mutations: [TxnMutation(.put, key: bytes("dirty"), value: bytes("uncommitted"))])))
        let seen = SharedList()
        let schedulerSocket = cluster.schedulerSocket
        let reader = Thread {
            let readerClient = TxnClient.cluster(scheduler: .unix(path: schedulerSocket), deadline: 10)
            let value = (try? readerClient.begin().get(bytes("dirty"))).map { $0.map { String(decoding: $0, as: UTF8.self) } ?? "nil" }
            seen.append(value ?? "error")
        }
        reader.start()
        usleep(500_000)
        #expect(seen.items.isEmpty, "the read did not wait for the lock: \(seen.items)")
        _ = try transport.send(.rollback(startTS: writerStart, keys: [bytes("dirty")]))
        #expect(LocalCluster.wait(timeout: 10) { !seen.items.isEmpty })
        #expect(seen.items == ["clean"])

        // Lost update: two increments from the same snapshot; one of them must fail.
        let first = try client.begin()
        let second = try client.begin()
        for txn in [first, second] {
            let value = Int(String(decoding: try txn.get(bytes("counter")) ?? [], as: UTF8.self)) ?? -1
            txn.put(bytes("counter"), bytes(String(value + 1)))
        }
        try first.commit()
        #expect(throws: KVClientError.self) { try second.commit() }
        #expect(try client.begin().get(bytes("counter")) == bytes("1"))

        // Read skew: a transfer committed between two reads of one snapshot is invisible to both.
        let auditor = try client.begin()
        #expect(try auditor.get(bytes("x")) == bytes("50"))
        let transfer = try client.begin()
        transfer.put(bytes("x"), bytes("40"))
        transfer.put(bytes("y"), bytes("60"))
        try transfer.commit()
        #expect(try auditor.get(bytes("y")) == bytes("50"))
        #expect(try client.begin().get(bytes("y")) == bytes("60"))

        // Fractured read: a transaction's writes in two regions are seen together or not at all, even while
        // its secondary is still locked (the reader rolls it forward).
        for i in 0..<30 {
            let writer = try client.begin()
            writer.put(bytes("f-a\(i)"), bytes("\(i)"))
            writer.put(bytes("f-z\(i)"), bytes("\(i)"))
            try writer.commit()
            let look = try client.begin()
            let pair = [try look.get(bytes("f-z\(i)")), try look.get(bytes("f-a\(i)"))]
            #expect(pair == [bytes("\(i)"), bytes("\(i)")], "iteration \(i): \(pair)")
        }

        // Write skew is allowed under snapshot isolation: two doctors each see the other on call and both go
        // off call; their write sets do not overlap, so both commit.
        let alice = try client.begin()
        let bob = try client.begin()
        for txn in [alice, bob] {
            #expect(try txn.get(bytes("oncall-a")) == bytes("1") && txn.get(bytes("oncall-z")) == bytes("1"))
        }
        alice.put(bytes("oncall-a"), bytes("0"))
        bob.put(bytes("oncall-z"), bytes("0"))
        try alice.commit()
        try bob.commit()
        let after = try client.begin()
        #expect(try after.get(bytes("oncall-a")) == bytes("0") && after.get(bytes("oncall-z")) == bytes("0"))

        // GC: once the safe point passes the last commit, every replica keeps one value of each key (a cluster
        // keeps commit records: see RaftStore.scheduleGarbageCollection), and reads at and after it are unchanged.
        let safePoint = try cluster.schedulerClient().setGCSafePoint(try transport.timestamp())
        func versions(_ key: String, on node: Int) -> Int {
            let dump = try? runCommand(BuiltProducts.path(of: "kvdump"), ["mvcc", cluster.nodeData(node), key], directory: cluster.directory.path)
            return dump?.text.split(separator: "\n").filter { $0.hasPrefix("record=DATA") }.count ?? -1
        }
        #expect(LocalCluster.wait(timeout: 30) {
            (0..<3).allSatisfy { node in versions("counter", on: node) == 1 && versions("x", on: node) == 1 && versions("oncall-a", on: node) == 1 }
        }, "\((0..<3).map { versions("counter", on: $0) })")
        #expect(try client.begin().get(bytes("counter")) == bytes("1"))
        #expect(try client.begin().get(bytes("x")) == bytes("40"))
        #expect(safePoint > 0)
    }

    @Test("coordinator crashes: primary commit lost → rolled back after the TTL; only the primary committed → rolled forward; commit reply lost → committed")
    func coordinatorCrashes() throws {
        let cluster = try LocalCluster()
        let admin = try cluster.client()
        _ = try admin.split(at: TxnKeys.base(bytes("m")))
        let transport = try cluster.client()
        let client = cluster.txnClient()
        defer { client.close() }

        // 1. The coordinator died after prewriting, before committing the primary.
        let lostStart = try transport.timestamp()
        _ = try transport.send(.prewrite(TxnPrewrite(primary: bytes("a-lost"), startTS: lostStart, ttl: 1_000, mutations: [TxnMutation(.put, key: bytes("a-lost"), value: bytes("v"))])))
        _ = try transport.send(.prewrite(TxnPrewrite(primary: bytes("a-lost"), startTS: lostStart, ttl: 1_000, mutations: [TxnMutation(.put, key: bytes("z-lost"), value: bytes("v"))])))
        let began = Date()
        #expect(try client.begin().get(bytes("z-lost")) == nil)
        #expect(Date().timeIntervalSince(began) > 0.3, "the reader did not wait for the lock's TTL")
        #expect(try client.begin().get(bytes("a-lost")) == nil)
        // The coordinator coming back cannot commit any more.
        let late = try transport.timestamp()
        #expect(throws: KVClientError.self) { try transport.send(.commit(startTS: lostStart, commitTS: late, keys: [bytes("a-lost")])) }

        // 2. The coordinator died after committing the primary, before the secondary.
        let halfStart = try transport.timestamp()
        _ = try transport.send(.prewrite(TxnPrewrite(primary: bytes("a-half"), startTS: halfStart, ttl: 60_000, mutations: [TxnMutation(.put, key: bytes("a-half"), value: bytes("1"))])))
        _ = try transport.send(.prewrite(TxnPrewrite(primary: bytes("a-half"), startTS: halfStart, ttl: 60_000, mutations: [TxnMutation(.put, key: bytes("z-half"), value: bytes("2"))])))
        let halfCommit = try transport.timestamp()
        _ = try transport.send(.commit(startTS: halfStart, commitTS: halfCommit, keys: [bytes("a-half")]))
        let quick = Date()
        let reader = try client.begin()
        #expect(try reader.get(bytes("z-half")) == bytes("2"))
        #expect(try reader.get(bytes("a-half")) == bytes("1"))
        #expect(Date().timeIntervalSince(quick) < 5, "rolling forward must not wait for the TTL")

        // 3. The commit reached the node but its answer was lost.
        let replyStart = try transport.timestamp()
        _ = try transport.send(.prewrite(TxnPrewrite(primary: bytes("a-reply"), startTS: replyStart, ttl: 60_000, mutations: [TxnMutation(.put, key: bytes("a-reply"), value: bytes("kept"))])))
        let replyCommit = try transport.timestamp()
        let region = try cluster.schedulerClient().region(containing: TxnKeys.base(bytes("a-reply")))
        let connection = try LineConnection(to: try NodeAddress(parsing: region.leaderAddress), timeout: 5)
        try connection.send(.inRegion(RegionContext(region.region), .txn(.commit(startTS: replyStart, commitTS: replyCommit, keys: [bytes("a-reply")]))))
        usleep(200_000)
        connection.finishSending()
        #expect(try client.begin().get(bytes("a-reply")) == bytes("kept"))
        #expect(try transport.send(.checkStatus(primary: bytes("a-reply"), startTS: replyStart, currentTS: try transport.timestamp()))
            == .ok(["status=committed", "commit_ts=\(replyCommit)"]))
    }
}

extension LocalCluster {
    /// A transactional client of the cluster.
    func txnClient() -> TxnClient {
        TxnClient.cluster(scheduler: .unix(path: schedulerSocket), deadline: 10)
    }
}

/// A flag shared by test threads.
final class Atomic<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    init(_ value: Value) { stored = value }
    var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
