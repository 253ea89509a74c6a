import Foundation
import KVTestSupport
import LogEngine
import Raft
import Testing

/// Options small enough that tests roll and reclaim segments often.
func smallSegments(_ size: Int = 64 << 10, sealed: Int = 2) -> LogEngineOptions {
    var options = LogEngineOptions()
    options.segmentSize = size
    options.maxSealedSegments = sealed
    options.prepareSegmentsInBackground = false
    return options
}

/// Seeds for the power-loss property: `LOG_SEEDS=N` runs N (default 40), `LOG_SEED=S` replays one.
func powerLossSeeds() -> [UInt64] {
    let environment = ProcessInfo.processInfo.environment
    if let seed = environment["LOG_SEED"].flatMap(UInt64.init) { return [seed] }
    return Array(0..<(environment["LOG_SEEDS"].flatMap(UInt64.init) ?? 40))
}

func entry(_ index: UInt64, term: UInt64 = 1, _ text: String = "") -> Entry {
    Entry(term: term, index: index, data: Array((text.isEmpty ? "e\(index)" : text).utf8))
}

@Suite("Log engine", .timeLimit(.minutes(10)))
struct LogEngineTests {
    @Test("entries, hard states and compaction points of several regions read back, and survive reopening")
    func basicsAndReopen() throws {
        let directory = TemporaryDirectory(prefix: "logengine")
        let path = directory.file("log")
        do {
            let log = try LogEngine(directory: path)
            var batch = LogBatch()
            batch.append(region: 1, entries: (1...5).map { entry($0) })
            batch.setHardState(region: 1, HardState(term: 1, vote: 1, commit: 5))
            batch.append(region: 7, entries: [entry(1, term: 2, "seven")])
            try log.write(batch)
            #expect(log.regions == [1, 7])
            #expect(log.firstIndex(of: 1) == 1 && log.lastIndex(of: 1) == 5)
            #expect(try log.term(of: 1, at: 0) == 0)
            #expect(try log.term(of: 7, at: 1) == 2)
            #expect(try log.entries(of: 1, from: 2, to: 4) == [entry(2), entry(3)])
            #expect(log.hardState(of: 1) == HardState(term: 1, vote: 1, commit: 5))
            #expect(log.hardState(of: 7) == nil)

            var next = LogBatch()
            next.compact(region: 1, upTo: 3, term: 1)
            next.append(region: 1, entries: [entry(5, term: 3, "five again"), entry(6, term: 3)])  // overwrite 5
            try log.write(next)
            #expect(log.firstIndex(of: 1) == 4 && log.lastIndex(of: 1) == 6)
            #expect(try log.term(of: 1, at: 3) == 1)
            #expect(throws: LogEngineError(.compacted, "")) { try log.entries(of: 1, from: 3, to: 5) }
            #expect(throws: LogEngineError(.unavailable, "")) { try log.entries(of: 1, from: 4, to: 8) }
            #expect(try log.entries(of: 1, from: 4, to: 7, maxSize: 1) == [entry(4)])  // at least one
            log.close()
        }
        let reopened = try LogEngine(directory: path)
        #expect(reopened.recovery.interruptedWrite == nil && reopened.recovery.problems.isEmpty)
        #expect(try reopened.entries(of: 1, from: 4, to: 7) == [entry(4), entry(5, term: 3, "five again"), entry(6, term: 3)])
        #expect(reopened.compactionPoint(of: 1) == (3, 1))
        #expect(reopened.hardState(of: 1) == HardState(term: 1, vote: 1, commit: 5))
        #expect(try reopened.entries(of: 7, from: 1, to: 2) == [entry(1, term: 2, "seven")])

        var reset = LogBatch()
        reset.reset(region: 1, index: 20, term: 4)
        try reopened.write(reset)
        #expect(reopened.firstIndex(of: 1) == 21 && reopened.lastIndex(of: 1) == 20)
        #expect(try reopened.term(of: 1, at: 20) == 4)
    }

    @Test("one fdatasync per batch, and a batch over the target size is split into synced batches")
    func syncsPerBatch() throws {
        let fileSystem = SimulatedFileSystem()
        let log = try LogEngine(directory: "/log", options: smallSegments(32 << 20), fileSystem: fileSystem)
        let before = log.statistics.syncs.load(ordering: .relaxed)
        var batch = LogBatch()
        for region in 1...50 as ClosedRange<UInt64> {
            batch.append(region: region, entries: [entry(1)])
            batch.setHardState(region: region, HardState(term: 1, vote: 0, commit: 1))
        }
        try log.write(batch)
        #expect(log.statistics.syncs.load(ordering: .relaxed) == before + 1)
        var big = LogBatch()
        big.append(region: 1, entries: (2...21).map { Entry(term: 1, index: $0, data: [UInt8](repeating: 7, count: 1 << 20)) })
        try log.write(big)
        #expect(log.statistics.syncs.load(ordering: .relaxed) == before + 1 + 3)  // 20 MiB in 8 MiB batches
        #expect(log.lastIndex(of: 1) == 21)
        var tooLarge = LogBatch()
        tooLarge.append(region: 1, entries: [Entry(term: 1, index: 22, data: [UInt8](repeating: 0, count: 17 << 20))])
        #expect(throws: LogEngineError(.recordTooLarge, "")) { try log.write(tooLarge) }
        var after = LogBatch()
        after.append(region: 1, entries: [entry(22)])
        try log.write(after)  // a refused record leaves the engine usable
    }

    @Test("a bad record in the middle of the log stops recovery with the file and offset; the last batch is cut off")
    func corruptionVersusInterruptedTail() throws {
        let fileSystem = SimulatedFileSystem()
        var offsets: [Int] = []
        do {
            let log = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            for i in 1...10 as ClosedRange<UInt64> {
                offsets.append(try LogEngine.check(directory: "/log", fileSystem: fileSystem).segments.last?.dataEnd
                    ?? LogFormat.segmentHeaderSize)
                var batch = LogBatch()
                batch.append(region: 1, entries: [entry(i)])
                try log.write(batch)
            }
            log.close()
        }
        let segment = "/log/0000000000000001.log"
        let original = fileSystem.contents(of: segment)!

        // A flipped byte in the third batch: later batches follow, so this is corruption, named precisely.
        fileSystem.overwrite(segment, at: offsets[2] + 40, with: [original[offsets[2] + 40] ^ 0x01])
        do {
            _ = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            Issue.record("a corrupt middle record was accepted")
        } catch let error as LogEngineError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains(segment))
            #expect(error.message.contains("offset"))
        }
        let report = try LogEngine.check(directory: "/log", fileSystem: fileSystem)
        #expect(report.problems.count == 1)
        fileSystem.overwrite(segment, at: offsets[2] + 40, with: [original[offsets[2] + 40]])

        // The same in a batch's own header: the batches after it still prove it had been synced.
        fileSystem.overwrite(segment, at: offsets[2] + 13, with: [original[offsets[2] + 13] ^ 0x01])
        #expect(throws: LogEngineError(.corrupt, "")) {
            try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        }
        fileSystem.overwrite(segment, at: offsets[2] + 13, with: [original[offsets[2] + 13]])

        // The same damage in the last batch looks like an interrupted write: cut off, the rest recovered.
        fileSystem.overwrite(segment, at: offsets[9] + 40, with: [original[offsets[9] + 40] ^ 0x01])
        let recovered = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        #expect(recovered.lastIndex(of: 1) == 9)
        #expect(recovered.recovery.interruptedWrite?.offset == offsets[9])
        var batch = LogBatch()
        batch.append(region: 1, entries: [entry(10, "ten, rewritten")])
        try recovered.write(batch)
        recovered.close()
        let again = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        #expect(again.recovery.interruptedWrite == nil)
        #expect(try again.entries(of: 1, from: 9, to: 11) == [entry(9), entry(10, "ten, rewritten")])
    }

    @Test("a frame whose checksum holds but which makes no sense is corruption, even in the last batch")
    func validChecksumNonsense() throws {
        let fileSystem = SimulatedFileSystem()
        let segment = "/log/0000000000000001.log"
        var lastBatch = 0
        do {
            let log = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            var batch = LogBatch()
            batch.append(region: 1, entries: [entry(1)])
            try log.write(batch)
            lastBatch = try LogEngine.check(directory: "/log", fileSystem: fileSystem).segments[0].dataEnd
            var last = LogBatch()
            last.append(region: 1, entries: [entry(2)])
            try log.write(last)
            log.close()
        }
        // Turn the last batch's record into one of an unknown type, with a checksum that holds (a newer format).
        let record = lastBatch + 21
        var bytes = Array(fileSystem.contents(of: segment)![record..<(record + 9 + 25 + 2)])
        bytes[8] = 99
        let crc = CRC32C.checksum(Array(bytes[4...]))
        bytes.replaceSubrange(0..<4, with: [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)])
        fileSystem.overwrite(segment, at: record, with: bytes)
        do {
            _ = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            Issue.record("a record of an unknown type was cut off as an interrupted write")
        } catch let error as LogEngineError {
            #expect(error.code == .corrupt)
            #expect(error.message.contains("unknown record type 99"))
        }
    }

    @Test("a complete last batch that was never synced is synced by recovery before it is used")
    func recoverySyncsUnsyncedTail() throws {
        let fileSystem = SimulatedFileSystem()
        do {
            let log = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            var batch = LogBatch()
            batch.append(region: 1, entries: [entry(1)])
            try log.write(batch)
            fileSystem.failSyncs(after: 0)  // the write reaches the page cache; its sync fails (as a kill -9 would)
            var unsynced = LogBatch()
            unsynced.append(region: 1, entries: [entry(2)])
            #expect(throws: LogEngineError.self) { try log.write(unsynced) }
            log.close()
            fileSystem.failSyncs(after: nil)
        }
        // A restart (no power loss) sees the complete batch and will serve it...
        let restarted = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        #expect(restarted.lastIndex(of: 1) == 2)
        restarted.close()
        // ...so a power failure afterwards must not take it away.
        var random = SplitMix64(seed: 1)
        fileSystem.crash(.dropUnsynced, random: &random)
        let afterPowerLoss = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        #expect(afterPowerLoss.lastIndex(of: 1) == 2)
    }

    @Test("a read-only open changes nothing: an interrupted tail is reported and left in place")
    func readOnlyOpen() throws {
        let fileSystem = SimulatedFileSystem()
        let segment = "/log/0000000000000001.log"
        do {
            let log = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
            var batch = LogBatch()
            batch.append(region: 3, entries: (1...4).map { entry($0) })
            try log.write(batch)
            let end = try LogEngine.check(directory: "/log", fileSystem: fileSystem).segments[0].dataEnd
            var last = LogBatch()
            last.append(region: 3, entries: [entry(5, String(repeating: "x", count: 2000))])
            try log.write(last)
            log.close()
            // The last batch torn: its second half never reached the disk.
            fileSystem.overwrite(segment, at: end + 1000, with: [UInt8](repeating: 0, count: 1200))
        }
        let before = fileSystem.paths.map { fileSystem.contents(of: $0)! }
        var readOnly = smallSegments()
        readOnly.readOnly = true
        let inspector = try LogEngine(directory: "/log", options: readOnly, fileSystem: fileSystem)
        #expect(inspector.lastIndex(of: 3) == 4)
        #expect(inspector.recovery.interruptedWrite?.path == segment)
        #expect(throws: LogEngineError(.readOnly, "")) { try inspector.write(LogBatch()) }
        #expect(fileSystem.paths.map { fileSystem.contents(of: $0)! } == before)

        let writer = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        #expect(writer.lastIndex(of: 3) == 4 && writer.recovery.interruptedWrite != nil)
        writer.close()
        #expect(try LogEngine.check(directory: "/log", fileSystem: fileSystem).interruptedWrite == nil)  // zeroed
    }

    @Test("a failed sync stops the engine: later writes are refused until recovery reads the disk again")
    func failedSync() throws {
        let fileSystem = SimulatedFileSystem()
        let log = try LogEngine(directory: "/log", options: smallSegments(), fileSystem: fileSystem)
        var batch = LogBatch()
        batch.append(region: 3, entries: [entry(1)])
        try log.write(batch)
        fileSystem.failSyncs(after: 0)
        var failing = LogBatch()
        failing.append(region: 3, entries: [entry(2)])
        #expect(throws: LogEngineError.self) { try log.write(failing) }
        fileSystem.failSyncs(after: nil)
        #expect(throws: LogEngineError(.failed, "")) { try log.write(failing) }
        #expect(log.lastIndex(of: 3) == 1)
    }

    @Test("disk use stays bounded under endless writes: dead segments go, idle regions' records are rewritten")
    func boundedDiskUse() throws {
        let fileSystem = SimulatedFileSystem()
        let options = smallSegments(64 << 10, sealed: 2)
        let log = try LogEngine(directory: "/log", options: options, fileSystem: fileSystem)
        // Regions 2, 3 and 4 write once each, at different times, then idle: without rewriting, their records
        // would pin three old segments forever.
        let idle: [UInt64: Int] = [2: 1, 3: 1_000, 4: 2_000]
        var maxFiles = 0
        var maxDisk = 0
        let writes = 100_000
        for i in 1...writes {
            var batch = LogBatch()
            let index = UInt64(i)
            for (region, at) in idle where at == i {
                batch.append(region: region, entries: [entry(1, "idle region \(region)")])
                batch.setHardState(region: region, HardState(term: 1, vote: region, commit: 1))
            }
            batch.append(region: 1, entries: [Entry(term: 1, index: index, data: [UInt8](repeating: UInt8(i & 0xFF), count: 100))])
            batch.setHardState(region: 1, HardState(term: 1, vote: 1, commit: index))
            if index > 50 && index % 10 == 0 { batch.compact(region: 1, upTo: index - 50, term: 1) }
            try log.write(batch)
            maxFiles = max(maxFiles, fileSystem.paths.count)
            maxDisk = max(maxDisk, fileSystem.paths.reduce(0) { $0 + fileSystem.contents(of: $1)!.count })
        }
        // At most 2 sealed plus one being freed, and the active one.
        #expect(maxFiles <= 4, "\(maxFiles) segment files at the peak")
        #expect(maxDisk <= 4 * options.segmentSize)
        #expect(log.statistics.segmentsRemoved.load(ordering: .relaxed) > 100)
        #expect(log.statistics.recordsRewritten.load(ordering: .relaxed) > 0)
        log.close()
        let reopened = try LogEngine(directory: "/log", options: options, fileSystem: fileSystem)
        #expect(reopened.lastIndex(of: 1) == UInt64(writes))
        for region in idle.keys {
            #expect(try reopened.entries(of: region, from: 1, to: 2) == [entry(1, "idle region \(region)")])
            #expect(reopened.hardState(of: region) == HardState(term: 1, vote: region, commit: 1))
        }
    }

    @Test("after any simulated power loss the log holds every synced batch, in order, and nothing never written")
    func powerLossProperty() async throws {
        // The seeds one after another on a thread of their own (see `onOwnThread`); the first failure stops.
        let failure = try await onOwnThread {
            try powerLossSeeds().lazy.compactMap { try Self.checkPowerLoss(seed: $0, maxData: 300) }.first
        }
        #expect(failure == nil, "\(failure ?? "")")
    }

    @Test("the same with large entries: batches and rewrites span several batches of a 64 KiB segment")
    func powerLossPropertyLargeEntries() async throws {
        let seeds = powerLossSeeds().prefix(powerLossSeeds().count / 8 + 4)
        let failure = try await onOwnThread {
            try seeds.lazy.compactMap { try Self.checkPowerLoss(seed: $0 ^ 0xB16, maxData: 9000) }.first
        }
        #expect(failure == nil, "\(failure ?? "")")
    }

    /// Runs the scenario of one seed; returns what went wrong, or nil.
    private static func checkPowerLoss(seed: UInt64, maxData: Int) throws -> String? {
        let fileSystem = SimulatedFileSystem()
        var random = SplitMix64(seed: seed &* 7919)
        var generator = BatchGenerator(seed: seed, maxData: maxData)
        let options = smallSegments(64 << 10, sealed: Int.random(in: 1...3, using: &random))
        var log = try LogEngine(directory: "/log", options: options, fileSystem: fileSystem)
        var model = LogModel()
        var crashes = 0
        for step in 0..<600 {
            let batch = generator.next(after: model)
            let before = model
            var after = model
            after.apply(batch)
            let injectFailure = Int.random(in: 0..<25, using: &random) == 0
            if injectFailure { fileSystem.failSyncs(after: Int.random(in: 0...2, using: &random)) }
            var failed = false
            do {
                try log.write(batch)
            } catch {
                failed = true
            }
            if !failed && !injectFailure {
                model = after
                if try LogModel.of(log).normalized != model.normalized {
                    return "seed \(seed) step \(step): the live index differs from the model"
                }
            }
            if failed || injectFailure || Int.random(in: 0..<30, using: &random) == 0 {
                // Power loss: while the batch's sync failed (or right after a good write).
                log.close()
                let mode = SimulatedFileSystem.CrashMode.allCases.randomElement(using: &random)!
                fileSystem.crash(mode, random: &random)
                fileSystem.failSyncs(after: nil)
                crashes += 1
                do {
                    log = try LogEngine(directory: "/log", options: options, fileSystem: fileSystem)
                } catch {
                    return "seed \(seed) step \(step) \(mode): recovery failed: \(error)"
                }
                let recovered = try LogModel.of(log).normalized
                // A write larger than a batch goes out as several batches, each synced: a crash may keep any
                // prefix of them. So the log must equal the model after some prefix of the last write's
                // records (all of them if that write completed).
                var candidate = failed ? before : after
                var matched = recovered == candidate.normalized
                for record in batch.records where failed && !matched {
                    candidate.apply(record)
                    matched = recovered == candidate.normalized
                }
                if !matched { return "seed \(seed) step \(step) \(mode): recovered state is no prefix of what was written" }
                model = candidate
            }
        }
        return crashes > 0 ? nil : "seed \(seed): no crash was simulated"
    }

    @Test("new segments are zero-filled one memory page per write, so a later append's sync writes back only its pages")
    func segmentsZeroFilledByPage() throws {
        let fileSystem = WriteSizeRecorder(SimulatedFileSystem())
        let log = try LogEngine(directory: "/log", options: smallSegments(1 << 20), fileSystem: fileSystem)
        for index in 1...40 as ClosedRange<UInt64> {  // rolls into further segments
            var batch = LogBatch()
            batch.append(region: 1, entries: [Entry(term: 1, index: index, data: [UInt8](repeating: 1, count: 64 << 10))])
            try log.write(batch)
        }
        log.close()
        let zeroWrites = fileSystem.writes.filter(\.allZero)
        #expect(Set(zeroWrites.map(\.path)).count >= 2)
        #expect(zeroWrites.map(\.count).max() ?? 0 <= max(4096, sysconf(Int32(_SC_PAGESIZE))))
        // The appends themselves are not cut up.
        #expect(fileSystem.writes.contains { !$0.allZero && $0.count > 64 << 10 })
    }

    @Test("reopening drops the active segment's cached pages and writes its unused tail's zeros again, a page at a time")
    func reopenRewritesTailByPage() throws {
        let simulated = SimulatedFileSystem()
        do {
            let log = try LogEngine(directory: "/log", options: smallSegments(1 << 20), fileSystem: simulated)
            for index in 1...3 as ClosedRange<UInt64> {
                var batch = LogBatch()
                batch.append(region: 1, entries: [entry(index)])
                try log.write(batch)
            }
            log.close()
        }
        let fileSystem = WriteSizeRecorder(simulated)
        let log = try LogEngine(directory: "/log", options: smallSegments(1 << 20), fileSystem: fileSystem)
        let active = "/log/0000000000000001.log"
        #expect(fileSystem.dropped.contains(active))
        let page = max(4096, sysconf(Int32(_SC_PAGESIZE)))
        let tail = fileSystem.writes.filter { $0.path == active }
        #expect(!tail.isEmpty && tail.allSatisfy { $0.allZero && $0.count <= page })
        #expect(tail.reduce(0) { $0 + $1.count } == (1 << 20) - page)  // everything after the first page
        #expect(try log.entries(of: 1, from: 1, to: 4) == [entry(1), entry(2), entry(3)])
        var batch = LogBatch()
        batch.append(region: 1, entries: [entry(4)])
        try log.write(batch)
        log.close()
        let reopened = try LogEngine(directory: "/log", options: smallSegments(1 << 20), fileSystem: simulated)
        #expect(try reopened.entries(of: 1, from: 1, to: 5) == [entry(1), entry(2), entry(3), entry(4)])
    }
}

/// A file system that notes the size of every write (and whether it was all zeros), passing everything on.
private final class WriteSizeRecorder: LogFileSystem, @unchecked Sendable {
    struct Write { var path: String; var count: Int; var allZero: Bool }

    private let base: any LogFileSystem
    private let lock = NSLock()
    private var recorded: [Write] = []
    private var droppedPaths: [String] = []

    init(_ base: any LogFileSystem) { self.base = base }

    var writes: [Write] { lock.withLock { recorded } }

    /// The files whose cached pages were dropped, in order.
    var dropped: [String] { lock.withLock { droppedPaths } }

    func note(_ write: Write) { lock.withLock { recorded.append(write) } }
    func noteDrop(_ path: String) { lock.withLock { droppedPaths.append(path) } }

    func listDirectory(_ path: String) throws -> [String] { try base.listDirectory(path) }
    func isDirectory(_ path: String) -> Bool { base.isDirectory(path) }
    func makeDirectory(_ path: String) throws { try base.makeDirectory(path) }
    func removeFile(_ path: String) throws { try base.removeFile(path) }
    func syncDirectory(_ path: String) throws { try base.syncDirectory(path) }
    func openFile(_ path: String, mode: LogFileMode) throws -> any LogFile {
        RecordingFile(try base.openFile(path, mode: mode), path: path, recorder: self)
    }

    private final class RecordingFile: LogFile {
        let file: any LogFile
        let path: String
        let recorder: WriteSizeRecorder

        init(_ file: any LogFile, path: String, recorder: WriteSizeRecorder) {
            self.file = file
            self.path = path
            self.recorder = recorder
        }

        func size() throws -> Int { try file.size() }
        func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            try file.read(at: offset, into: buffer)
        }
        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            recorder.note(Write(path: path, count: bytes.count, allZero: bytes.allSatisfy { $0 == 0 }))
            try file.write(bytes, at: offset)
        }
        func sync() throws { try file.sync() }
        func dropCachedPages() {
            recorder.noteDrop(path)
            file.dropCachedPages()
        }
        func close() { file.close() }
    }
}
