@testable import Raft
import Testing

/// The small pure types: quorum arithmetic, progress and flow control, the log.
@Suite("Quorum", .timeLimit(.minutes(2)))
struct QuorumTests {
    @Test("the committed index is the highest index a majority has", arguments: [
        ([], 0),
        ([5], 5),
        ([5, 3], 3),
        ([5, 3, 1], 3),
        ([1, 5, 3, 2], 2),
        ([9, 9, 1, 1, 5], 5),
    ] as [([UInt64], UInt64)])
    func committedIndex(matches: [UInt64], expected: UInt64) {
        let voters = matches.indices.map { UInt64($0 + 1) }
        #expect(Quorum.committedIndex(voters: voters) { matches[Int($0 - 1)] } == expected)
    }

    @Test("vote results: won, lost or still pending")
    func voteResult() {
        let voters: [UInt64] = [1, 2, 3, 4, 5]
        #expect(Quorum.voteResult(voters: voters, votes: [:]) == .pending)
        #expect(Quorum.voteResult(voters: voters, votes: [1: true, 2: true]) == .pending)
        #expect(Quorum.voteResult(voters: voters, votes: [1: true, 2: true, 3: true]) == .won)
        #expect(Quorum.voteResult(voters: voters, votes: [1: false, 2: false, 3: false]) == .lost)
        #expect(Quorum.voteResult(voters: voters, votes: [1: true, 2: false, 3: false, 4: false]) == .lost)
        #expect(Quorum.voteResult(voters: voters, votes: [9: true, 8: true, 7: true]) == .pending,
                "non-voters do not count")
        #expect(Quorum.voteResult(voters: [1, 2], votes: [1: true]) == .pending)
    }
}

@Suite("Progress and inflights", .timeLimit(.minutes(2)))
struct ProgressTests {
    @Test("maybeUpdate raises match and next, ignores stale acks")
    func maybeUpdate() {
        var pr = Progress(next: 5, maxInflight: 4)
        pr.match = 3
        let r1 = pr.maybeUpdate(4)
        #expect(r1)
        #expect(pr.match == 4 && pr.next == 5)
        let r2 = pr.maybeUpdate(2)
        #expect(!r2)
        #expect(pr.match == 4)
        let r3 = pr.maybeUpdate(9)
        #expect(r3)
        #expect(pr.next == 10)
    }

    @Test("maybeDecrTo in probe: uses the hint, ignores stale rejections")
    func decrementProbe() {
        var pr = Progress(next: 10, maxInflight: 4)
        pr.match = 2
        let r4 = pr.maybeDecrTo(rejected: 5, matchHint: 3)
        #expect(!r4, "not the probe we sent (next - 1 = 9)")
        let r5 = pr.maybeDecrTo(rejected: 9, matchHint: 4)
        #expect(r5)
        #expect(pr.next == 5)
        let r6 = pr.maybeDecrTo(rejected: 4, matchHint: 0)
        #expect(r6)
        #expect(pr.next == 3, "never below match + 1")
    }

    @Test("maybeDecrTo in replicate: falls back to match + 1")
    func decrementReplicate() {
        var pr = Progress(next: 10, maxInflight: 4)
        pr.match = 6
        pr.becomeReplicate()
        let r7 = pr.maybeDecrTo(rejected: 5, matchHint: 5)
        #expect(!r7)
        let r8 = pr.maybeDecrTo(rejected: 8, matchHint: 5)
        #expect(r8)
        #expect(pr.next == 7)
    }

    @Test("paused: probe after a probe, replicate when inflights are full, always in snapshot")
    func paused() {
        var pr = Progress(next: 1, maxInflight: 2)
        #expect(!pr.isPaused)
        pr.probeSent = true
        #expect(pr.isPaused)
        pr.becomeReplicate()
        #expect(!pr.isPaused)
        pr.inflights.add(3)
        pr.inflights.add(5)
        #expect(pr.isPaused)
        pr.inflights.freeLE(3)
        #expect(!pr.isPaused)
        pr.becomeSnapshot(index: 20)
        #expect(pr.isPaused)
        pr.becomeProbe()
        #expect(pr.next == 21, "probe resumes after the snapshot")
    }

    @Test("inflights free by acknowledged index")
    func inflights() {
        var inflights = Inflights(capacity: 3)
        inflights.add(2)
        inflights.add(4)
        inflights.add(6)
        #expect(inflights.isFull)
        inflights.freeLE(4)
        #expect(inflights.lastIndexes == [6])
        inflights.freeFirst()
        #expect(inflights.count == 0)
    }
}

@Suite("Log", .timeLimit(.minutes(2)))
struct LogTests {
    func log(_ terms: [UInt64], unstable: [UInt64] = []) -> RaftLog {
        let storage = makeStorage(voters: [1], logTerms: terms)
        var log = RaftLog(storage: storage)
        let start = UInt64(terms.count) + 1
        log.append(unstable.enumerated().map { Entry(term: $0.element, index: start + UInt64($0.offset)) })
        return log
    }

    @Test("terms come from storage and the unstable tail alike")
    func terms() {
        let l = log([1, 1, 2], unstable: [3, 3])
        #expect(l.lastIndex() == 5)
        #expect(l.term(0) == 0)
        #expect(l.term(3) == 2)
        #expect(l.term(5) == 3)
        #expect(l.term(6) == nil)
        #expect(l.slice(2, 5, maxSize: Int.max)?.map(\.term) == [1, 2, 3])
        #expect(l.slice(1, 6, maxSize: 1)?.count == 1, "at least one entry")
    }

    @Test("findConflict returns the first mismatching or new index")
    func findConflict() {
        let l = log([1, 1, 2])
        #expect(l.findConflict([Entry(term: 1, index: 1), Entry(term: 1, index: 2)]) == 0)
        #expect(l.findConflict([Entry(term: 1, index: 2), Entry(term: 3, index: 3)]) == 3)
        #expect(l.findConflict([Entry(term: 2, index: 3), Entry(term: 2, index: 4)]) == 4)
    }

    @Test("findConflictByTerm skips every entry with a larger term")
    func findConflictByTerm() {
        let l = log([1, 1, 2, 2, 5, 5, 5])
        #expect(l.findConflictByTerm(index: 7, term: 4) == 4)
        #expect(l.findConflictByTerm(index: 7, term: 1) == 2)
        #expect(l.findConflictByTerm(index: 7, term: 5) == 7)
        #expect(l.findConflictByTerm(index: 3, term: 0) == 0)
    }

    @Test("maybeAppend truncates a conflicting suffix and commits up to the last new entry")
    func maybeAppend() {
        var l = log([1, 1, 2, 2])
        let rejected = l.maybeAppend(index: 2, logTerm: 2, leaderCommit: 9, entries: [])
        #expect(rejected == nil)
        let accepted = l.maybeAppend(index: 2, logTerm: 1, leaderCommit: 9, entries: [Entry(term: 3, index: 3)])
        #expect(accepted == 3)
        #expect(l.lastIndex() == 3)
        #expect(l.term(3) == 3)
        #expect(l.committed == 3, "capped at the last new index")
    }

    @Test("§5.4.2 maybeCommit only commits an entry of the given term")
    func maybeCommitFigure8() {
        var l = log([1, 2, 4])
        let r9 = l.maybeCommit(index: 2, term: 4)
        #expect(!r9)
        #expect(l.committed == 0)
        let r10 = l.maybeCommit(index: 3, term: 4)
        #expect(r10)
        #expect(l.committed == 3)
    }

    @Test("isUpToDate compares last term, then length")
    func upToDate() {
        let l = log([1, 2, 2])
        #expect(l.isUpToDate(lastIndex: 1, term: 3))
        #expect(l.isUpToDate(lastIndex: 3, term: 2))
        #expect(!l.isUpToDate(lastIndex: 2, term: 2))
        #expect(!l.isUpToDate(lastIndex: 10, term: 1))
    }

    @Test("the unstable log truncates, appends and becomes stable")
    func unstable() {
        var u = UnstableLog(offset: 5)
        u.truncateAndAppend([Entry(term: 1, index: 5), Entry(term: 1, index: 6), Entry(term: 1, index: 7)])
        u.truncateAndAppend([Entry(term: 2, index: 6)])
        #expect(u.entries.map(\.index) == [5, 6])
        #expect(u.maybeTerm(6) == 2)
        u.stableTo(index: 6, term: 1)
        #expect(u.entries.count == 2, "term mismatch: ignored")
        u.stableTo(index: 5, term: 1)
        #expect(u.offset == 6)
        u.truncateAndAppend([Entry(term: 3, index: 4)])
        #expect(u.offset == 4)
        #expect(u.entries.map(\.term) == [3])
    }
}

@Suite("MemoryStorage", .timeLimit(.minutes(2)))
struct MemoryStorageTests {
    @Test("append overwrites a conflicting suffix; compaction keeps the term of the last dropped entry")
    func appendAndCompact() throws {
        let s = makeStorage(voters: [1], logTerms: [1, 1, 2, 2])
        try s.append([Entry(term: 3, index: 3)])
        #expect(s.lastIndex() == 3)
        #expect(try s.term(at: 3) == 3)
        try s.createSnapshot(index: 2, confState: ConfState(voters: [1]), data: [1])
        try s.compact(upTo: 2)
        #expect(s.firstIndex() == 3)
        #expect(try s.term(at: 2) == 1)
        #expect(throws: RaftError.compacted) { try s.term(at: 1) }
        #expect(throws: RaftError.compacted) { try s.entries(from: 2, to: 4, maxSize: .max) }
        #expect(throws: RaftError.unavailable) { try s.entries(from: 3, to: 5, maxSize: .max) }
        #expect(throws: RaftError.unavailable) { try s.compact(upTo: 3) }
        #expect(throws: RaftError.unavailable) { try s.append([Entry(term: 3, index: 9)]) }
    }

    @Test("applying a snapshot replaces the log")
    func applySnapshot() throws {
        let s = makeStorage(voters: [1], logTerms: [1, 1])
        let snap = Snapshot(metadata: SnapshotMetadata(index: 10, term: 4, confState: ConfState(voters: [1, 2])))
        try s.applySnapshot(snap)
        #expect(s.firstIndex() == 11)
        #expect(s.lastIndex() == 10)
        #expect(try s.term(at: 10) == 4)
        #expect(try s.initialState().confState == ConfState(voters: [1, 2]))
        #expect(throws: RaftError.compacted) {
            try s.applySnapshot(Snapshot(metadata: SnapshotMetadata(index: 5, term: 4)))
        }
    }

    @Test("config validation")
    func config() {
        #expect(throws: RaftError.invalidConfig("id must not be 0")) { try RaftConfig(id: 0).validate() }
        #expect(throws: RaftError.invalidConfig("electionTick must exceed heartbeatTick")) {
            try RaftConfig(id: 1, electionTick: 2, heartbeatTick: 2).validate()
        }
    }
}
