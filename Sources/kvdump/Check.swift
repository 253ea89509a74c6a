import ArgumentParser
import KVCommandLine
import KVEngine
import LogEngine
import RaftStore

#if canImport(Glibc)
import Glibc
#endif

/// `kvdump check DIR`: verifies everything that can be verified offline.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Verify a data directory: every log checksum, LMDB's length, and that the two fit together.",
        discussion: """
            Checks every record checksum of every log segment; that data.mdb is as long as its meta page says; \
            that the meta values decode; that each region's applied index lies within its log (LMDB never ahead \
            of the log, the log never compacted past what LMDB holds); and that the entries a restart would \
            replay decode. Prints one line per check ("ok ..." or "DAMAGED ..."); exits 0 when all pass, 5 when \
            anything is damaged. Read-only, safe on a live node (a write in progress is not damage).
            """)

    @Argument(help: "The data directory.")
    var directory: String

    func run() throws {
        var problems: [String] = []
        func ok(_ text: String) { StandardStreams.writeLine("ok       \(text)") }
        func damaged(_ text: String) {
            problems.append(text)
            StandardStreams.writeLine("DAMAGED  \(text)")
        }
        guard PosixFileSystem().isDirectory(directory) else {
            throw EngineError(.directoryMissing, "data directory \(directory) does not exist")
        }
        let live = nodeHoldsLock(directory)

        // The log first (see DurableState): every checksum, how its data ends.
        let logDirectory = directory + "/log"
        let hasLog = PosixFileSystem().isDirectory(logDirectory)
        if hasLog {
            let report = try LogEngine.check(directory: logDirectory)
            for problem in report.problems { damaged("log: \(problem)") }
            if report.problems.isEmpty {
                ok("log: \(report.segments.count) segment(s), \(report.records) records, every checksum verified")
            }
            if let cut = report.interruptedWrite {
                StandardStreams.writeLine(
                    "note     log: \(live ? "a write in progress" : "an interrupted write (never acknowledged; cut off at the next start)") "
                        + "at \(cut.path) offset \(cut.offset)")
            }
        }

        var meta: StoreMeta?
        do {
            let environment = try openReadOnly(directory)
            defer { environment.close() }
            ok("data.mdb: a valid LMDB file, as long as its meta page says")
            meta = try environment.read { try StoreMeta(reading: $0) }
            ok("meta: identity, \(meta!.regions.count) region(s) and applied indexes decode")
        } catch {
            damaged("\(error)")
        }
        guard let meta, problems.isEmpty else { return try finish(problems) }
        guard let identity = meta.identity else {
            StandardStreams.writeLine("note     no store identity: written before the Raft log; the next start adopts it")
            return try finish(problems)
        }
        guard hasLog else {
            damaged("\(logDirectory) is missing, but data.mdb belongs to store \(identity.storeID)")
            return try finish(problems)
        }

        for attempt in 0..<2 {
            let log = try openLogReadOnly(directory)
            defer { log.close() }
            var regionProblems: [String] = []
            var laggingLog = false
            for region in meta.regions.values.sorted(by: { $0.id < $1.id }) {
                let applied = meta.applied[region.id] ?? 0
                let compacted = log.compactionPoint(of: region.id).index
                let last = log.lastIndex(of: region.id)
                let commit = log.hardState(of: region.id)?.commit ?? 0
                if compacted > applied {
                    regionProblems.append(
                        "region \(region.id): data.mdb applied up to \(applied) but the log is compacted to \(compacted): "
                            + "LMDB lost acknowledged writes")
                } else if last < applied {
                    // (A commit index below the applied one is fine: a cluster node writes a hard state that
                    // only moved the commit index with its next log write, so a crash may lose it.)
                    laggingLog = true
                    regionProblems.append(
                        "region \(region.id): data.mdb applied up to \(applied) but the log ends at \(last) (commit "
                            + "\(commit)): the log lost entries")
                }
            }
            // A live node may have written and flushed between our reads of the log and LMDB: look again.
            if laggingLog && live && attempt == 0 { continue }
            for problem in regionProblems { damaged(problem) }
            if regionProblems.isEmpty {
                ok("regions: every applied index lies within its log")
            }
            break
        }
        if problems.isEmpty {
            do {
                let state = try DurableState(directory: directory)
                let count = state.unflushedEntries.values.reduce(0) { $0 + $1.count }
                state.close()
                ok("replay: the \(count) committed entries not yet in LMDB are in the log and decode")
            } catch {
                damaged("replay: \(error)")
            }
        }
        try finish(problems)
    }

    private func finish(_ problems: [String]) throws {
        guard problems.isEmpty else {
            throw ToolFailure(exitCode: 5, message: "\(directory): \(problems.count) problem(s) found")
        }
        StandardStreams.writeLine("\(directory): no damage found")
    }

    /// Whether a kvnode holds the directory's lock (it is running).
    private func nodeHoldsLock(_ directory: String) -> Bool {
        let fd = open(directory + "/LOCK", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return false
        }
        return true
    }
}
