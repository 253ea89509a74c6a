import Foundation
import KVEngine
import KVProtocol
import KVServer
import KVTestSupport
import LogEngine
import Raft
import RaftStore
import Testing

@Suite("Raftstore: the standalone node as one region with one voter", .timeLimit(.minutes(5)))
struct RaftStoreTests {
    @Test("writes are answered after the log sync and visible to every later read; many share one sync")
    func writesAndGroupCommit() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let store = try openStore(directory.file("data"))
        defer { store.close() }
        #expect(store.run([.put(key: bytes("a"), value: bytes("1")), .get(key: bytes("a"))]) == [.ok, .value(bytes("1"))])
        #expect(store.read([.get(key: bytes("a"))]) == [.value(bytes("1"))])
        #expect(store.run([.delete(key: bytes("a")), .delete(key: bytes("a")), .get(key: bytes("a"))])
            == [.ok(["1"]), .ok(["0"]), .notFound])

        let syncsBefore = store.log.statistics.syncs.load(ordering: .relaxed)
        let submissions = (0..<400).map { i in [Request.put(key: bytes("k\(i)"), value: bytes("v\(i)"))] }
        let answers = store.runConcurrently(submissions)
        #expect(answers.allSatisfy { $0 == [.ok] })
        let syncs = store.log.statistics.syncs.load(ordering: .relaxed) - syncsBefore
        #expect(syncs < 400, "\(syncs) log syncs for 400 concurrent writes")
        #expect(store.read((0..<400).map { .get(key: bytes("k\($0)")) }) == (0..<400).map { .value(bytes("v\($0)")) })
        #expect(store.stat("keys") == "400")
        #expect(store.stat("applied_index").flatMap(UInt64.init) ?? 0 >= 400)
    }

    @Test("a submission of reads only, queued behind writes that already applied, is answered at once")
    func readsOnlySubmission() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let store = try openStore(directory.file("data"))
        defer { store.close() }
        #expect(store.run([.put(key: bytes("r"), value: bytes("1"))]) == [.ok])
        // What a connection sends when a GET arrives while its earlier PUT is still unanswered.
        #expect(store.run([.get(key: bytes("r")), .scan(ScanRequest())])
            == [.value(bytes("1")), .rows([ScanRow(key: bytes("r"), value: bytes("1"))], more: false)])
    }

    @Test("reads inside a write submission see exactly the writes before them")
    func readsOrderedWithinSubmission() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let store = try openStore(directory.file("data"))
        defer { store.close() }
        _ = store.run([.put(key: bytes("b"), value: bytes("old"))])
        let answers = store.run([
            .get(key: bytes("b")), .put(key: bytes("b"), value: bytes("new")), .get(key: bytes("b")),
            .scan(ScanRequest()), .delete(key: bytes("b")), .scan(ScanRequest()), .get(key: bytes("b")),
        ])
        #expect(answers == [
            .value(bytes("old")), .ok, .value(bytes("new")), .rows([ScanRow(key: bytes("b"), value: bytes("new"))], more: false),
            .ok(["1"]), .rows([], more: false), .notFound,
        ])
    }

    @Test("a restart replays exactly the entries LMDB had not applied, and loses nothing")
    func restartReplaysUnappliedSuffix() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let path = directory.file("data")
        var options = testOptions()
        options.flushMilliseconds = 600_000  // no flush by time: only at stop, when allowed
        options.flushBytes = 1 << 30
        let applied: UInt64
        do {
            let store = try openStore(path, options)
            for i in 0..<20 { _ = store.run([.put(key: bytes("first-\(i)"), value: bytes("\(i)"))]) }
            store.close()  // flushes everything to LMDB
            applied = store.statistics.durableAppliedIndex.load(ordering: .relaxed)
            #expect(applied == store.statistics.appliedIndex.load(ordering: .relaxed))
        }
        options.flushOnStop = false
        let written = 37
        do {
            let store = try openStore(path, options)
            #expect(store.statistics.replayedEntries.load(ordering: .relaxed) == 0)
            for i in 0..<written { _ = store.run([.put(key: bytes("second-\(i)"), value: bytes("\(i)"))]) }
            _ = store.run([.delete(key: bytes("first-3"))])
            store.close()  // as after a crash: LMDB still at `applied`
        }
        let store = try openStore(path, options)
        defer { store.close() }
        // The new term's empty entry, the writes and the delete of the second run.
        #expect(store.statistics.replayedEntries.load(ordering: .relaxed) == written + 2)
        #expect(store.stat("applied_index").flatMap(UInt64.init) == applied + UInt64(written) + 3)
        #expect(store.read([.get(key: bytes("second-36")), .get(key: bytes("first-3")), .get(key: bytes("first-4"))])
            == [.value(bytes("36")), .notFound, .value(bytes("4"))])
        #expect(store.stat("keys") == "\(20 - 1 + written)")
    }

    @Test("the unflushed layers stay bounded: new writes wait while a flush catches up")
    func backPressureBoundsMemory() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        var options = testOptions()
        options.maxUnflushedBytes = 256 << 10
        options.flushBytes = 64 << 10
        options.maxRoundBytes = 64 << 10
        let store = try openStore(directory.file("data"), options)
        defer { store.close() }
        let value = [UInt8](repeating: 0x61, count: 2000)
        for round in 0..<10 {
            let answers = store.runConcurrently((0..<100).map { i in [.put(key: bytes("r\(round)-\(i)"), value: value)] })
            #expect(answers.allSatisfy { $0 == [.ok] })
        }
        let peak = store.statistics.peakUnflushedBytes.load(ordering: .relaxed)
        #expect(peak <= options.maxUnflushedBytes + 2 * options.maxRoundBytes, "peak \(peak) bytes unflushed")
        #expect(store.statistics.lmdbCommits.load(ordering: .relaxed) > 3)
        #expect(store.stat("keys") == "1000")
    }

    @Test("a long run with tiny log segments keeps the log's disk use bounded", .timeLimit(.minutes(5)))
    func boundedLogUnderEndlessWrites() async throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        var options = testOptions()
        options.flushMilliseconds = 50
        options.maxRoundBytes = 32 << 10  // a round's batch always fits in one 64 KiB segment
        let store = try openStore(directory.file("data"), options)
        defer { store.close() }
        // RAFTSTORE_LONG_WRITES=N for a longer run (10 M: about half an hour in a debug build).
        let writes = Int(ProcessInfo.processInfo.environment["RAFTSTORE_LONG_WRITES"] ?? "") ?? 500_000
        let logDirectory = directory.file("data/log")
        // On a thread of its own: the run blocks for a while (see `onOwnThread`).
        let (allOK, maxDisk, maxSegments) = try await onOwnThread { () -> (Bool, Int, Int) in
            let perSubmission = 250
            var maxDisk = 0
            var maxSegments = 0
            var done = 0
            var allOK = true
            while done < writes {
                let batch = (0..<16).map { s in
                    (0..<perSubmission).map { i in
                        Request.put(key: bytes("key-\((done + s * perSubmission + i) % 5000)"), value: bytes("value-\(done + i)"))
                    }
                }
                allOK = allOK && store.runConcurrently(batch).allSatisfy { $0.allSatisfy { $0 == .ok } }
                done += 16 * perSubmission
                maxDisk = max(maxDisk, store.log.statistics.diskBytes.load(ordering: .relaxed))
                maxSegments = max(maxSegments, try FileManager.default.contentsOfDirectory(atPath: logDirectory).count)
            }
            return (allOK, maxDisk, maxSegments)
        }
        #expect(allOK)
        let written = store.log.statistics.bytesWritten.load(ordering: .relaxed)
        #expect(written > 20 * options.log.segmentSize, "the run wrote \(written) log bytes")
        // Two sealed segments, one being freed, the active one and the one prepared ahead. A batch larger than
        // a whole 64 KiB segment (a region's rewritten records, which stay in one batch) makes its segment grow.
        #expect(maxSegments <= 5, "\(maxSegments) segment files at the peak")
        #expect(maxDisk <= 8 * options.log.segmentSize, "\(maxDisk) log bytes on disk at the peak")
        #expect(store.stat("keys") == "5000")
    }

    @Test("a failed log sync stops writes with a storage error; reads go on; the failure is reported once")
    func logFailureStopsWrites() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let fileSystem = SimulatedFileSystem()
        var options = testOptions()
        options.logFileSystem = fileSystem
        let failures = NSLock()
        nonisolated(unsafe) var reported: [RaftStoreError] = []
        let store = try RaftStore(directory: directory.file("data"), options: options, onFailure: { error in
            failures.withLock { reported.append(error) }
        })
        defer { store.close() }
        #expect(store.waitUntilReady(timeout: 30))
        #expect(store.run([.put(key: bytes("kept"), value: bytes("yes"))]) == [.ok])
        fileSystem.failSyncs(after: 0)
        let failed = store.run([.put(key: bytes("lost"), value: bytes("no"))])
        guard case .error(let error) = failed[0] else {
            Issue.record("a write after a failed sync was answered \(failed)")
            return
        }
        #expect(error.code == .storage)
        let later = store.run([.put(key: bytes("later"), value: bytes("no"))])
        #expect(later.count == 1 && { if case .error(let e) = later[0] { return e.code == .storage } else { return false } }())
        #expect(store.read([.get(key: bytes("kept")), .get(key: bytes("lost"))]) == [.value(bytes("yes")), .notFound])
        #expect(failures.withLock { reported.count } == 1)
    }

    @Test("a round the log splits into two synced batches, failing after the first: the store starts again (a hard state never lands ahead of its entries)")
    func roundSplitAcrossLogBatches() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let fileSystem = SimulatedFileSystem()
        var options = testOptions()  // 64 KiB segments: the log cuts a round into batches of about 32 KiB
        options.logFileSystem = fileSystem
        do {
            let store = try RaftStore(directory: directory.file("data"), options: options, onFailure: { _ in })
            defer { store.close() }
            #expect(store.waitUntilReady(timeout: 30))
            #expect(store.run([.put(key: bytes("kept"), value: bytes("yes"))]) == [.ok])
            // One entry larger than a batch: the round's records go out as two synced batches, the second fails.
            fileSystem.failSyncs(after: 1)
            let answer = store.run([.put(key: bytes("big"), value: [UInt8](repeating: 7, count: 40 << 10))])
            guard case .error(let error) = answer[0] else {
                Issue.record("the write whose log sync failed was answered \(answer)")
                return
            }
            #expect(error.code == .storage)
        }
        var random = SeededGenerator(seed: 7)
        fileSystem.crash(.dropUnsynced, random: &random)
        fileSystem.failSyncs(after: nil)
        // Had the hard state (commit index of the big entry) gone first, it would be durable without the entry.
        let store = try openStore(directory.file("data"), options)
        defer { store.close() }
        #expect(store.read([.get(key: bytes("kept"))]) == [.value(bytes("yes"))])
        #expect(store.run([.put(key: bytes("after"), value: bytes("ok"))]) == [.ok])
    }

    @Test("a log whose hard state commits past its last entry is refused at open with an error, not a hang")
    func commitBeyondLogRefused() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let path = directory.file("data")
        do {
            let store = try openStore(path)
            #expect(store.run([.put(key: bytes("k"), value: bytes("v"))]) == [.ok])
            store.close()
        }
        do {
            let log = try LogEngine(directory: path + "/log", options: testOptions().log)
            defer { log.close() }
            let region = try #require(log.regions.first)
            let state = try #require(log.hardState(of: region))
            var batch = LogBatch()
            batch.setHardState(region: region, HardState(term: state.term, vote: state.vote, commit: log.lastIndex(of: region) + 10))
            try log.write(batch)
        }
        #expect(throws: RaftStoreError.self) { _ = try RaftStore(directory: path, options: testOptions()) }
    }

    @Test("a data directory written before the log is adopted: its keys are region 1's state")
    func migratesPreLogDirectory() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let path = directory.file("data")
        do {
            let environment = try Environment(path: path)
            try environment.write { txn in
                for i in 0..<100 { try txn.put(bytes("old-\(i)"), for: bytes("key-\(i)")) }
            }
            environment.close()
        }
        do {
            let store = try openStore(path)
            #expect(store.migratedFromUnreplicatedFormat)
            #expect(store.read([.get(key: bytes("key-7"))]) == [.value(bytes("old-7"))])
            #expect(store.run([.put(key: bytes("key-7"), value: bytes("new"))]) == [.ok])
            store.close()
        }
        let store = try openStore(path)
        defer { store.close() }
        #expect(!store.migratedFromUnreplicatedFormat)
        #expect(store.read([.get(key: bytes("key-7")), .get(key: bytes("key-8"))]) == [.value(bytes("new")), .value(bytes("old-8"))])
    }

    @Test("LMDB and a log that do not fit together are refused with an explanation")
    func mismatchedDirectoriesRefused() throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        let path = directory.file("data")
        do {
            let store = try openStore(path)
            _ = store.run([.put(key: bytes("a"), value: bytes("1"))])
            store.close()
        }
        // The log directory vanished: acknowledged writes may be lost with it.
        try FileManager.default.moveItem(atPath: path + "/log", toPath: directory.file("log-aside"))
        #expect(throws: RaftStoreError.self) { _ = try RaftStore(directory: path, options: testOptions()) }
        do {
            _ = try RaftStore(directory: path, options: testOptions())
        } catch let error as RaftStoreError {
            #expect(error.message.contains("log directory") && error.message.contains("missing"))
        }
        // A log without the LMDB file that goes with it.
        let other = directory.file("other")
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: directory.file("log-aside"), toPath: other + "/log")
        do {
            _ = try RaftStore(directory: other, options: testOptions())
            Issue.record("a log without its LMDB file was accepted")
        } catch let error as RaftStoreError {
            #expect(error.message.contains("no store identity"))
        }
    }
}
