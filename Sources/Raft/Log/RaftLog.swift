/// A node's view of the whole log: the persisted part behind ``Storage`` followed by the ``UnstableLog``.
struct RaftLog {
    let storage: any Storage
    var unstable: UnstableLog
    /// Highest index known to be committed. Invariant: `applied <= committed <= lastIndex()`.
    private(set) var committed: UInt64
    /// Highest index handed to the caller to apply and acknowledged by `advance`. Invariant:
    /// `applied <= committed`.
    private(set) var applied: UInt64

    init(storage: any Storage) {
        self.storage = storage
        let first = storage.firstIndex()
        let last = storage.lastIndex()
        unstable = UnstableLog(offset: last + 1)
        // Everything before the first index is covered by the snapshot, hence committed and applied.
        committed = first - 1
        applied = first - 1
    }

    func firstIndex() -> UInt64 {
        unstable.maybeFirstIndex ?? storage.firstIndex()
    }

    func lastIndex() -> UInt64 {
        unstable.maybeLastIndex ?? storage.lastIndex()
    }

    /// Term at `index`, or nil if compacted away or beyond the last index.
    func term(_ index: UInt64) -> UInt64? {
        let dummy = firstIndex() - 1
        if index < dummy || index > lastIndex() { return nil }
        if let t = unstable.maybeTerm(index) { return t }
        return try? storage.term(at: index)
    }

    func lastTerm() -> UInt64 {
        term(lastIndex()) ?? 0
    }

    func matchTerm(_ index: UInt64, _ term: UInt64) -> Bool {
        self.term(index) == term
    }

    /// §5.4.1: a candidate's log is at least as up-to-date as ours if its last term is higher, or equal
    /// with an index at least as high.
    func isUpToDate(lastIndex candidateIndex: UInt64, term candidateTerm: UInt64) -> Bool {
        let ourTerm = lastTerm()
        return candidateTerm > ourTerm || (candidateTerm == ourTerm && candidateIndex >= lastIndex())
    }

    /// Index of the first entry of `entries` that conflicts with (or is missing from) our log, or 0 if all
    /// of them are already present.
    func findConflict(_ entries: [Entry]) -> UInt64 {
        for entry in entries where !matchTerm(entry.index, entry.term) {
            return entry.index
        }
        return 0
    }

    /// The largest index `<= index` whose term is `<= term`: every entry after it has a higher term than
    /// `term`, so cannot match a log whose entry at `index` has term `term`. Used to skip a whole term of
    /// mismatching entries per round trip. Stops at the first index whose term is unknown.
    func findConflictByTerm(index: UInt64, term: UInt64) -> UInt64 {
        var i = index
        while i > 0, let t = self.term(i), t > term {
            i -= 1
        }
        return i
    }

    /// The follower side of an append: if our log has (`index`, `logTerm`), append `entries` (truncating a
    /// conflicting suffix) and advance the commit index to `min(leaderCommit, last new index)`.
    ///
    /// - Returns: the last index covered by the message, or nil if the consistency check failed.
    mutating func maybeAppend(index: UInt64, logTerm: UInt64, leaderCommit: UInt64, entries: [Entry]) -> UInt64? {
        guard matchTerm(index, logTerm) else { return nil }
        let lastNew = index + UInt64(entries.count)
        let conflict = findConflict(entries)
        if conflict != 0 {
            precondition(conflict > committed, "entry \(conflict) conflicts with committed index \(committed)")
            append(Array(entries[Int(conflict - index - 1)...]))
        }
        commitTo(min(leaderCommit, lastNew))
        return lastNew
    }

    @discardableResult
    mutating func append(_ entries: [Entry]) -> UInt64 {
        guard let first = entries.first else { return lastIndex() }
        precondition(first.index > committed, "appending at \(first.index) would overwrite committed \(committed)")
        unstable.truncateAndAppend(entries)
        return lastIndex()
    }

    /// Entries `[low, high)`, limited to `maxSize` bytes; nil if `low` is compacted.
    func slice(_ low: UInt64, _ high: UInt64, maxSize: Int) -> [Entry]? {
        if low < firstIndex() { return nil }
        if low >= high { return [] }
        var result: [Entry] = []
        if low < unstable.offset {
            let storedHigh = min(high, unstable.offset)
            guard let stored = try? storage.entries(from: low, to: storedHigh, maxSize: maxSize) else { return nil }
            result = stored
            if UInt64(stored.count) < storedHigh - low { return result }
        }
        if high > unstable.offset {
            result.append(contentsOf: unstable.slice(max(low, unstable.offset), high))
        }
        return limitSize(result, maxSize: maxSize)
    }

    /// Entries from `index` to the end within `maxSize`; nil if `index` is compacted.
    func entries(from index: UInt64, maxSize: Int) -> [Entry]? {
        if index > lastIndex() { return [] }
        return slice(index, lastIndex() + 1, maxSize: maxSize)
    }

    var unstableEntries: [Entry] { unstable.entries }

    /// Committed entries not yet applied (none while a received snapshot is pending).
    func nextCommittedEntries() -> [Entry] {
        let low = max(applied + 1, firstIndex())
        guard committed + 1 > low else { return [] }
        return slice(low, committed + 1, maxSize: Int.max) ?? []
    }

    func hasNextCommittedEntries() -> Bool {
        committed + 1 > max(applied + 1, firstIndex())
    }

    func snapshot() throws(RaftError) -> Snapshot {
        if let snapshot = unstable.snapshot { return snapshot }
        return try storage.snapshot()
    }

    mutating func commitTo(_ index: UInt64) {
        guard index > committed else { return }
        precondition(index <= lastIndex(), "commit \(index) beyond last index \(lastIndex())")
        committed = index
    }

    mutating func appliedTo(_ index: UInt64) {
        guard index > applied else { return }
        precondition(index <= committed, "applied \(index) beyond committed \(committed)")
        applied = index
    }

    /// Figure 8 rule (§5.4.2): only an entry of the current term is committed by counting replicas; earlier
    /// entries become committed indirectly with it.
    mutating func maybeCommit(index: UInt64, term: UInt64) -> Bool {
        guard index > committed, self.term(index) == term else { return false }
        commitTo(index)
        return true
    }

    mutating func restore(_ snapshot: Snapshot) {
        committed = snapshot.metadata.index
        unstable.restore(snapshot)
    }
}
