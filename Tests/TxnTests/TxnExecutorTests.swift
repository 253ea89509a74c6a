import KVEngine
import KVProtocol
import KVTestSupport
import Testing
import Txn

/// Runs transactional commands against a real LMDB environment, one LMDB transaction per command (as a node
/// applies them one after another).
final class TxnStore {
    let directory = TemporaryDirectory(prefix: "txn")
    let environment: Environment

    init() throws { environment = try Environment(path: directory.path) }
    deinit {
        environment.close()
        directory.remove()
    }

    func run(_ request: TxnRequest) throws -> Response {
        try environment.write { txn in
            let outcome = try TxnExecutor(snapshot: LMDBSnapshot(txn: txn)).execute(request)
            for change in outcome.changes {
                if let value = change.value { try txn.put(value, for: change.key) } else { _ = try txn.delete(change.key) }
            }
            return outcome.response
        }
    }

    func get(_ key: String, at ts: UInt64) throws -> Response { try run(.get(key: Array(key.utf8), startTS: ts)) }

    func prewrite(_ puts: [(String, String)], primary: String? = nil, at ts: UInt64, ttl: UInt64 = 3000) throws -> Response {
        let mutations = puts.map { TxnMutation(.put, key: Array($0.0.utf8), value: Array($0.1.utf8)) }
        return try run(.prewrite(TxnPrewrite(primary: Array((primary ?? puts[0].0).utf8), startTS: ts, ttl: ttl, mutations: mutations)))
    }

    func commit(_ keys: [String], start: UInt64, commit: UInt64) throws -> Response {
        try run(.commit(startTS: start, commitTS: commit, keys: keys.map { Array($0.utf8) }))
    }

    func storedKeys() throws -> [[UInt8]] { try environment.read { txn in try txn.scan().map(\.key) } }
}

struct LMDBSnapshot: MvccSnapshot {
    let txn: Transaction
    func get(_ key: [UInt8]) throws -> [UInt8]? { try txn.get(key) }
    func first(from lower: [UInt8], below upper: [UInt8]) throws -> (key: [UInt8], value: [UInt8])? {
        try txn.scan(range: KeyRange(lower: lower, upper: upper.isEmpty ? nil : upper), limit: 1).first.map { ($0.key, $0.value) }
    }
}

private func code(_ response: Response) -> ErrorCode? {
    if case .error(let error) = response { return error.code }
    return nil
}

private func value(_ text: String) -> Response { .value(Array(text.utf8)) }

/// A timestamp at `milliseconds` of physical time.
private func ts(_ milliseconds: UInt64, _ logical: UInt64 = 0) -> UInt64 { milliseconds << 18 | logical }

@Suite("Percolator commands on LMDB")
struct TxnExecutorTests {
    @Test("reads at every timestamp around a commit see the version of their snapshot")
    func readsAroundACommit() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("k", "v1")], at: 10) == .ok)
        #expect(try store.commit(["k"], start: 10, commit: 20) == .ok)
        #expect(try store.prewrite([("k", "v2")], at: 30) == .ok)
        // Before the prewrite's start, the lock does not matter; at or after it, it blocks.
        #expect(try store.get("k", at: 9) == .notFound)
        #expect(try store.get("k", at: 19) == .notFound)
        #expect(try store.get("k", at: 20) == value("v1"))
        #expect(try store.get("k", at: 29) == value("v1"))
        #expect(code(try store.get("k", at: 30)) == .locked)
        #expect(code(try store.get("k", at: 45)) == .locked)
        #expect(try store.commit(["k"], start: 30, commit: 40) == .ok)
        #expect(try store.get("k", at: 39) == value("v1"))
        #expect(try store.get("k", at: 40) == value("v2"))
        #expect(try store.get("k", at: .max) == value("v2"))
        // A delete hides the key from its commit on.
        #expect(try store.run(.prewrite(TxnPrewrite(primary: Array("k".utf8), startTS: 50, ttl: 100, mutations: [TxnMutation(.delete, key: Array("k".utf8))]))) == .ok)
        #expect(try store.commit(["k"], start: 50, commit: 60) == .ok)
        #expect(try store.get("k", at: 59) == value("v2"))
        #expect(try store.get("k", at: 60) == .notFound)
    }

    @Test("a read sees past newer rollback and lock records, and past a LOCK-kind lock, to the older value")
    func readsPastRecordsWithoutValues() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("k", "v1")], at: 10) == .ok)
        #expect(try store.commit(["k"], start: 10, commit: 20) == .ok)
        // Newest record a rollback (a transaction rolled back before it prewrote).
        #expect(try store.run(.rollback(startTS: 30, keys: [Array("k".utf8)])) == .ok)
        #expect(try store.get("k", at: 35) == value("v1"))
        #expect(code(try store.prewrite([("k", "late")], at: 30)) == .aborted)  // the rollback is seen
        // Newest record a lock-kind commit (the key was only locked, not written).
        let lockOnly = TxnPrewrite(primary: Array("k".utf8), startTS: 40, ttl: 100, mutations: [TxnMutation(.lock, key: Array("k".utf8))])
        #expect(try store.run(.prewrite(lockOnly)) == .ok)
        #expect(try store.get("k", at: 45) == value("v1"))  // a LOCK-kind lock blocks no reader
        #expect(try store.commit(["k"], start: 40, commit: 50) == .ok)
        #expect(try store.get("k", at: 55) == value("v1"))
        #expect(try store.get("k", at: 15) == .notFound)
        #expect(code(try store.prewrite([("k", "late")], at: 45)) == .writeConflict)  // so is the lock record
    }

    @Test("the lock an error reports names the transaction holding it")
    func lockedErrorDescribesTheLock() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("a", "1"), ("b", "2")], primary: "a", at: 10, ttl: 777) == .ok)
        guard case .error(let error) = try store.get("b", at: 15) else { Issue.record("not locked"); return }
        let lock = try LockInfo(message: error.message)
        #expect(lock == LockInfo(key: Array("b".utf8), primary: Array("a".utf8), startTS: 10, ttl: 777, kind: .put))
    }

    @Test("a write committed after a transaction started is a write conflict; another's lock is LOCKED")
    func conflicts() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("k", "first")], at: 10) == .ok)
        #expect(code(try store.prewrite([("k", "second")], at: 15)) == .locked)
        #expect(try store.commit(["k"], start: 10, commit: 20) == .ok)
        #expect(code(try store.prewrite([("k", "second")], at: 15)) == .writeConflict)  // started before the commit
        #expect(try store.prewrite([("k", "third")], at: 25) == .ok)  // started after it
        // All or nothing: one failing key leaves the others unlocked.
        #expect(code(try store.prewrite([("x", "1"), ("k", "2")], primary: "x", at: 26)) == .locked)
        #expect(try store.get("x", at: 100) == .notFound)
        // A retried prewrite of the same transaction is fine.
        #expect(try store.prewrite([("k", "third")], at: 25) == .ok)
    }

    @Test("commit is idempotent; commit after rollback is refused; rollback after commit is refused")
    func commitAndRollbackOutcomes() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("k", "v")], at: 10) == .ok)
        #expect(try store.commit(["k"], start: 10, commit: 20) == .ok)
        #expect(try store.commit(["k"], start: 10, commit: 20) == .ok)
        #expect(code(try store.run(.rollback(startTS: 10, keys: [Array("k".utf8)]))) == .alreadyCommitted)
        #expect(try store.prewrite([("j", "v")], at: 30) == .ok)
        #expect(try store.run(.rollback(startTS: 30, keys: [Array("j".utf8)])) == .ok)
        #expect(try store.run(.rollback(startTS: 30, keys: [Array("j".utf8)])) == .ok)
        #expect(code(try store.commit(["j"], start: 30, commit: 40)) == .aborted)
        #expect(try store.get("j", at: 50) == .notFound)
        // The rolled-back value is gone from storage, not just hidden.
        #expect(!(try store.storedKeys()).contains(TxnKeys.data(Array("j".utf8), startTS: 30)))
        // A commit of a transaction that never locked the key.
        #expect(code(try store.commit(["nothing"], start: 60, commit: 70)) == .txnLockNotFound)
    }

    @Test("a rollback that arrives before the prewrite stops the prewrite")
    func rollbackProtection() throws {
        let store = try TxnStore()
        #expect(try store.run(.rollback(startTS: 10, keys: [Array("k".utf8)])) == .ok)
        #expect(code(try store.prewrite([("k", "late")], at: 10)) == .aborted)
        // Another transaction's rollback record is no conflict for a newer one.
        #expect(try store.prewrite([("k", "new")], at: 5) == .ok)
    }

    @Test("check status: locked until the TTL runs out, then rolled back; committed; never seen")
    func checkStatusAndTTL() throws {
        let store = try TxnStore()
        let start = ts(1_000)
        #expect(try store.prewrite([("p", "v"), ("s", "w")], primary: "p", at: start, ttl: 500) == .ok)
        let early = try store.run(.checkStatus(primary: Array("p".utf8), startTS: start, currentTS: ts(1_400)))
        guard case .ok(let words) = early else { Issue.record("\(early)"); return }
        #expect(words.first == "status=locked")
        #expect(words.contains("ttl_left_ms=100"))
        #expect(try store.run(.checkStatus(primary: Array("p".utf8), startTS: start, currentTS: ts(1_500))) == .ok(["status=rolled_back"]))
        // The secondary's lock stays until a resolver rolls it back.
        #expect(code(try store.get("s", at: ts(2_000))) == .locked)
        #expect(try store.run(.resolve(startTS: start, commitTS: 0, keys: [Array("s".utf8)])) == .ok(["resolved=1"]))
        #expect(try store.get("s", at: ts(2_000)) == .notFound)
        #expect(code(try store.commit(["p"], start: start, commit: ts(2_100))) == .aborted)

        // Committed.
        #expect(try store.prewrite([("q", "v")], at: ts(3_000)) == .ok)
        #expect(try store.commit(["q"], start: ts(3_000), commit: ts(3_001)) == .ok)
        #expect(try store.run(.checkStatus(primary: Array("q".utf8), startTS: ts(3_000), currentTS: ts(9_000))) == .ok(["status=committed", "commit_ts=\(ts(3_001))"]))
        // Never seen: marked rolled back, so its prewrite cannot come later.
        #expect(try store.run(.checkStatus(primary: Array("r".utf8), startTS: ts(4_000), currentTS: ts(4_001))) == .ok(["status=rolled_back"]))
        #expect(code(try store.prewrite([("r", "late")], at: ts(4_000))) == .aborted)
    }

    @Test("resolve rolls secondaries forward or back, by keys or over the whole range")
    func resolveBothWays() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("a", "1"), ("b", "2"), ("c", "3")], primary: "a", at: 10) == .ok)
        #expect(try store.commit(["a"], start: 10, commit: 20) == .ok)
        // Only the primary committed: readers roll the others forward.
        #expect(try store.run(.resolve(startTS: 10, commitTS: 20, keys: [Array("b".utf8)])) == .ok(["resolved=1"]))
        #expect(try store.get("b", at: 25) == value("2"))
        #expect(try store.run(.resolve(startTS: 10, commitTS: 20, keys: [])) == .ok(["resolved=1"]))  // c, found by scanning
        #expect(try store.get("c", at: 25) == value("3"))
        #expect(try store.get("c", at: 19) == .notFound)

        #expect(try store.prewrite([("d", "4"), ("e", "5")], primary: "d", at: 30) == .ok)
        #expect(try store.prewrite([("f", "6")], primary: "f", at: 31) == .ok)
        #expect(try store.run(.resolve(startTS: 30, commitTS: 0, keys: [])) == .ok(["resolved=2"]))
        #expect(try store.get("d", at: 40) == .notFound)
        #expect(try store.get("e", at: 40) == .notFound)
        #expect(code(try store.get("f", at: 40)) == .locked)  // another transaction's lock is left alone
    }

    @Test("GC below a safe point drops what no read at or after it can see; those reads are unchanged")
    func garbageCollection() throws {
        let store = try TxnStore()
        for (start, commit, value) in [(10, 20, "v20"), (30, 40, "v40"), (50, 60, "v60")] as [(UInt64, UInt64, String)] {
            #expect(try store.prewrite([("k", value)], at: start) == .ok)
            #expect(try store.commit(["k"], start: start, commit: commit) == .ok)
        }
        #expect(try store.run(.rollback(startTS: 45, keys: [Array("k".utf8)])) == .ok)
        // A key deleted before the safe point: nothing of it is visible from there on.
        #expect(try store.prewrite([("gone", "x")], at: 11) == .ok)
        #expect(try store.commit(["gone"], start: 11, commit: 12) == .ok)
        #expect(try store.run(.prewrite(TxnPrewrite(primary: Array("gone".utf8), startTS: 13, ttl: 100, mutations: [TxnMutation(.delete, key: Array("gone".utf8))]))) == .ok)
        #expect(try store.commit(["gone"], start: 13, commit: 14) == .ok)
        // A lock stays whatever its age.
        #expect(try store.prewrite([("locked", "y")], at: 15) == .ok)

        let before = try [50, 59, 60, 100].map { try store.get("k", at: $0) }
        let keys = [Array("k".utf8), Array("gone".utf8), Array("locked".utf8)]
        // Mode values first (what a cluster node does): old values and rollback records go, commit records stay.
        #expect(try store.run(.gc(safePoint: 50, mode: .values, keys: keys)) == .ok(["deleted=3"]))  // data@10, rollback@45, data@11
        #expect(try [50, 59, 60, 100].map { try store.get("k", at: $0) } == before)
        #expect(try store.run(.checkStatus(primary: Array("k".utf8), startTS: 10, currentTS: 1000)) == .ok(["status=committed", "commit_ts=20"]))
        let answer = try store.run(.gc(safePoint: 50, mode: .full, keys: keys))
        #expect(answer == .ok(["deleted=3"]))  // then the commit records: k's write@20; gone's delete@14 and write@12
        #expect(try [50, 59, 60, 100].map { try store.get("k", at: $0) } == before)
        #expect(before == [value("v40"), value("v40"), value("v60"), value("v60")])
        let k = Array("k".utf8)
        #expect(try store.storedKeys().filter { TxnKeys.decode($0)?.userKey == k } == [
            TxnKeys.write(k, commitTS: 60), TxnKeys.write(k, commitTS: 40), TxnKeys.data(k, startTS: 50), TxnKeys.data(k, startTS: 30),
        ])
        #expect(try store.storedKeys().filter { TxnKeys.decode($0)?.userKey == Array("gone".utf8) }.isEmpty)
        #expect(try store.storedKeys().contains(TxnKeys.lock(Array("locked".utf8))))
        #expect(try store.get("gone", at: 100) == .notFound)
        // Nothing more to do at the same safe point.
        #expect(try store.run(.gc(safePoint: 50, mode: .full, keys: [k])) == .ok(["deleted=0"]))
        // A key with a lock at or below the safe point is left alone: the lock's fate may need its records.
        #expect(try store.prewrite([("old", "1")], at: 70) == .ok)
        #expect(try store.commit(["old"], start: 70, commit: 71) == .ok)
        #expect(try store.prewrite([("old", "2")], at: 72) == .ok)
        #expect(try store.commit(["old"], start: 72, commit: 73) == .ok)
        #expect(try store.prewrite([("old", "3")], at: 74) == .ok)
        #expect(try store.run(.gc(safePoint: 80, mode: .full, keys: [Array("old".utf8)])) == .ok(["deleted=0"]))
        let environment = store.environment
        let garbage = try environment.read { txn in
            try MvccReader(LMDBSnapshot(txn: txn)).keysWithGarbage(from: TxnKeys.spaceStart, below: [], safePoint: 100)
        }
        #expect(garbage == [k])  // above 100: write@40 and its value
    }

    @Test("one-phase commit: visible from its commit timestamp, refused like a prewrite, repeatable")
    func onePhaseCommit() throws {
        let store = try TxnStore()
        let kv = { (key: String, value: String) in TxnMutation(.put, key: Array(key.utf8), value: Array(value.utf8)) }
        #expect(try store.run(.commitOnePhase(startTS: 10, commitTS: 20, mutations: [kv("a", "1"), kv("b", "2")])) == .ok(["commit_ts=20"]))
        #expect(try store.get("a", at: 19) == .notFound)
        #expect(try store.get("b", at: 20) == value("2"))
        #expect(try store.storedKeys().filter { TxnKeys.decode($0)?.family == .lock }.isEmpty)
        // The same request again (its answer lost), with the new commit timestamp a node would give it.
        #expect(try store.run(.commitOnePhase(startTS: 10, commitTS: 25, mutations: [kv("a", "1"), kv("b", "2")])) == .ok(["commit_ts=20"]))
        #expect(try store.get("a", at: 30) == value("1"))
        // Repeated after someone else committed the key too: still its own commit timestamp, not a conflict.
        #expect(try store.run(.commitOnePhase(startTS: 21, commitTS: 22, mutations: [kv("a", "2")])) == .ok(["commit_ts=22"]))
        #expect(try store.run(.commitOnePhase(startTS: 10, commitTS: 26, mutations: [kv("a", "1"), kv("b", "2")])) == .ok(["commit_ts=20"]))
        // Started before that commit: a conflict; against another's lock: LOCKED; after a rollback: ABORTED.
        #expect(code(try store.run(.commitOnePhase(startTS: 15, commitTS: 30, mutations: [kv("a", "x")]))) == .writeConflict)
        #expect(try store.prewrite([("c", "p")], at: 40) == .ok)
        #expect(code(try store.run(.commitOnePhase(startTS: 41, commitTS: 42, mutations: [kv("c", "x")]))) == .locked)
        #expect(try store.run(.rollback(startTS: 50, keys: [Array("d".utf8)])) == .ok)
        #expect(code(try store.run(.commitOnePhase(startTS: 50, commitTS: 51, mutations: [kv("d", "x")]))) == .aborted)
        #expect(code(try store.run(.commitOnePhase(startTS: 60, commitTS: 0, mutations: [kv("e", "x")]))) == .badArgument)
        // Short values live inside the write record (no data record); a long one keeps its data record. Both
        // read back; GC of an older short-valued version leaves no record of it.
        let long = [UInt8](repeating: 0x61, count: WriteRecord.maxShortValue + 1)
        #expect(try store.run(.commitOnePhase(startTS: 80, commitTS: 81, mutations: [kv("s", "old"), TxnMutation(.put, key: Array("l".utf8), value: long)])) == .ok(["commit_ts=81"]))
        #expect(try store.run(.commitOnePhase(startTS: 82, commitTS: 83, mutations: [kv("s", "")])) == .ok(["commit_ts=83"]))
        let dataOf = { (key: String) in try store.storedKeys().filter { TxnKeys.decode($0)?.family == .data && TxnKeys.decode($0)?.userKey == Array(key.utf8) } }
        #expect(try dataOf("s").isEmpty)
        #expect(try dataOf("l").count == 1)
        #expect(try store.get("s", at: 82) == value("old"))
        #expect(try store.get("s", at: 83) == .value([]))
        #expect(try store.get("l", at: 90) == .value(long))
        #expect(try store.run(.gc(safePoint: 90, mode: .full, keys: [Array("s".utf8)])) == .ok(["deleted=1"]))
        #expect(try store.get("s", at: 90) == .value([]))
        #expect(try store.storedKeys().filter { TxnKeys.decode($0)?.userKey == Array("s".utf8) }.count == 1)
        // Over a lock of its own (a client mixing PREWRITE and ONE_PC): refused, the lock left to COMMIT.
        #expect(try store.prewrite([("f", "p")], at: 70) == .ok)
        #expect(code(try store.run(.commitOnePhase(startTS: 70, commitTS: 71, mutations: [kv("f", "x")]))) == .badArgument)
        #expect(try store.commit(["f"], start: 70, commit: 72) == .ok)
        #expect(try store.get("f", at: 72) == value("p"))
    }

    @Test("TMGET reads every key at its timestamp, stops at a lock, and refuses keys outside the range")
    func batchGet() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("a", "1"), ("b", "")], at: 10) == .ok)
        #expect(try store.commit(["a", "b"], start: 10, commit: 20) == .ok)
        #expect(try store.prewrite([("c", "3")], at: 30) == .ok)
        let keys = ["b", "a", "z"].map { Array($0.utf8) }
        let read = try TxnBatchRead(parsing: try store.run(.batchGet(keys: keys, startTS: 25)), keys: keys)
        #expect(read.startTS == 25)
        #expect(read.rows.map(\.value) == [[], Array("1".utf8), nil])
        #expect(try TxnBatchRead(parsing: try store.run(.batchGet(keys: keys, startTS: 19)), keys: keys).rows.allSatisfy { $0.value == nil })
        // c's lock (started at 30) blocks a read at 30 or later, not one before.
        #expect(code(try store.run(.batchGet(keys: [Array("a".utf8), Array("c".utf8)], startTS: 31))) == .locked)
        #expect(throws: Never.self) { try TxnBatchRead(parsing: try store.run(.batchGet(keys: [Array("c".utf8)], startTS: 29)), keys: [Array("c".utf8)]) }
        let bounded = try store.environment.read { txn in
            try TxnExecutor(snapshot: LMDBSnapshot(txn: txn), lower: TxnKeys.base(Array("a".utf8)), upper: TxnKeys.base(Array("b".utf8)))
                .read(.batchGet(keys: [Array("a".utf8), Array("b".utf8)], startTS: 25))
        }
        #expect(code(bounded) == .keyNotInRegion)
        // One answer is at most a scan page's bytes.
        let big = (0..<5).map { TxnMutation(.put, key: Array("big\($0)".utf8), value: [UInt8](repeating: 7, count: 1 << 20)) }
        #expect(try store.run(.prewrite(TxnPrewrite(primary: big[0].key, startTS: 40, ttl: 100, mutations: big))) == .ok)
        #expect(try store.run(.commit(startTS: 40, commitTS: 41, keys: big.map(\.key))) == .ok)
        #expect(code(try store.run(.batchGet(keys: big.map(\.key), startTS: 42))) == .badArgument)
        #expect(throws: Never.self) { try TxnBatchRead(parsing: try store.run(.batchGet(keys: Array(big.map(\.key).prefix(3)), startTS: 42)), keys: Array(big.map(\.key).prefix(3))) }
    }

    @Test("scans return the snapshot's rows in key order and stop at a lock")
    func scans() throws {
        let store = try TxnStore()
        #expect(try store.prewrite([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")], at: 10) == .ok)
        #expect(try store.commit(["a", "b", "c", "d"], start: 10, commit: 20) == .ok)
        #expect(try store.prewrite([("b", "22")], at: 30) == .ok)
        #expect(try store.commit(["b"], start: 30, commit: 40) == .ok)
        func scan(_ start: String, _ end: String, at: UInt64, limit: Int = 100) throws -> Response {
            try store.run(.scan(TxnScan(start: Array(start.utf8), end: Array(end.utf8), startTS: at, limit: limit)))
        }
        func rows(_ pairs: [(String, String)], more: Bool = false) -> Response {
            .rows(pairs.map { ScanRow(key: Array($0.0.utf8), value: Array($0.1.utf8)) }, more: more)
        }
        #expect(try scan("", "", at: 25) == rows([("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]))
        #expect(try scan("b", "d", at: 45) == rows([("b", "22"), ("c", "3")]))
        #expect(try scan("", "", at: 45, limit: 2) == rows([("a", "1"), ("b", "22")], more: true))
        #expect(try scan("", "", at: 15) == rows([]))
        #expect(try store.prewrite([("c", "33")], at: 50) == .ok)
        #expect(code(try scan("", "", at: 55)) == .locked)
        #expect(try scan("", "c", at: 55) == rows([("a", "1"), ("b", "22")]))
    }
}
