/// An in-memory ``Storage``, for tests, the simulator and the benchmark.
///
/// It plays the role of the durable store: the caller writes what ``Ready`` hands over into it
/// (``append(_:)``, ``setHardState(_:)``, ``applySnapshot(_:)``), and may compact it after applying
/// (``createSnapshot(index:confState:data:)`` then ``compact(upTo:)``).
///
/// To bootstrap a group, create each initial member with ``init(confState:)``: the membership is recorded
/// as a snapshot at index 0. A node added later starts from ``init()`` (or the same bootstrap
/// configuration) and learns the rest from the leader.
public final class MemoryStorage {
    /// The persisted hard state.
    public private(set) var hardState: HardState
    /// The latest snapshot (metadata at index 0 when there is none yet). Its index may be ahead of
    /// `firstIndex() - 1` until ``compact(upTo:)`` drops the entries it covers.
    public private(set) var latestSnapshot: Snapshot
    /// Entries still in the log: `storedEntries[0].index == firstIndex()`.
    public private(set) var storedEntries: [Entry]
    /// Index of `storedEntries[0]` (or where it would be).
    private var entriesStart: UInt64
    /// Term of the entry at `entriesStart - 1` (the last compacted one, or the snapshot's).
    private var prefixTerm: UInt64

    /// Creates empty storage (no members known).
    public init() {
        hardState = HardState()
        latestSnapshot = Snapshot()
        storedEntries = []
        entriesStart = 1
        prefixTerm = 0
    }

    /// Creates storage for a bootstrapping member of the group.
    ///
    /// - Parameter confState: the initial voters.
    public convenience init(confState: ConfState) {
        self.init()
        latestSnapshot.metadata.confState = confState
    }

    /// Records the hard state.
    ///
    /// - Parameter state: the value from ``Ready/hardState``.
    public func setHardState(_ state: HardState) {
        hardState = state
    }

    /// Appends entries, first discarding any stored entries at or after `entries[0].index` (a new leader
    /// overwrote them). Entries already compacted away are skipped.
    ///
    /// - Parameter entries: consecutive entries, typically ``Ready/entries``.
    /// - Throws: ``RaftError/unavailable`` if they would leave a gap after the last stored entry.
    public func append(_ entries: [Entry]) throws(RaftError) {
        guard let firstNew = entries.first?.index, let lastNew = entries.last?.index else { return }
        let first = firstIndex()
        if lastNew < first { return }
        var toAppend = entries[...]
        if firstNew < first {
            toAppend = entries[Int(first - firstNew)...]
        }
        let offset = Int(toAppend.first!.index - first)
        if offset > storedEntries.count { throw RaftError.unavailable }
        storedEntries.removeSubrange(offset...)
        storedEntries.append(contentsOf: toAppend)
    }

    /// Replaces the whole log by a snapshot received from the leader (``Ready/snapshot``).
    ///
    /// - Parameter snapshot: the snapshot.
    /// - Throws: ``RaftError/compacted`` if it is older than the current snapshot.
    public func applySnapshot(_ snapshot: Snapshot) throws(RaftError) {
        if snapshot.metadata.index < latestSnapshot.metadata.index { throw RaftError.compacted }
        latestSnapshot = snapshot
        storedEntries = []
        entriesStart = snapshot.metadata.index + 1
        prefixTerm = snapshot.metadata.term
    }

    /// Records a snapshot of the state machine at `index` (which must be applied and still in the log), so
    /// that a later ``compact(upTo:)`` can drop the entries it covers.
    ///
    /// - Parameters:
    ///   - index: the applied index the image was taken at.
    ///   - confState: membership as of `index`.
    ///   - data: the serialized state machine.
    /// - Returns: the snapshot.
    /// - Throws: ``RaftError/compacted`` if `index` is older than the current snapshot or compacted,
    ///   ``RaftError/unavailable`` if beyond the last entry.
    @discardableResult
    public func createSnapshot(index: UInt64, confState: ConfState, data: [UInt8]) throws(RaftError) -> Snapshot {
        if index < latestSnapshot.metadata.index { throw RaftError.compacted }
        let term = try term(at: index)
        let metadata = SnapshotMetadata(index: index, term: term, confState: confState)
        latestSnapshot = Snapshot(metadata: metadata, data: data)
        return latestSnapshot
    }

    /// Drops entries up to and including `index`. They must be covered by the latest snapshot
    /// (``createSnapshot(index:confState:data:)``), so `index` may not exceed its index.
    ///
    /// - Parameter index: last index to drop.
    /// - Throws: ``RaftError/unavailable`` if `index` is past the snapshot.
    public func compact(upTo index: UInt64) throws(RaftError) {
        if index > latestSnapshot.metadata.index { throw RaftError.unavailable }
        let first = firstIndex()
        if index < first { return }
        prefixTerm = try term(at: index)
        storedEntries.removeFirst(Int(index - first + 1))
        entriesStart = index + 1
    }
}

// MARK: - Storage

extension MemoryStorage: Storage {
    /// The persisted hard state and the snapshot's membership.
    public func initialState() throws(RaftError) -> (hardState: HardState, confState: ConfState) {
        (hardState, latestSnapshot.metadata.confState)
    }

    /// Stored entries in `[low, high)` within `maxSize` bytes.
    public func entries(from low: UInt64, to high: UInt64, maxSize: Int) throws(RaftError) -> [Entry] {
        if low < firstIndex() { throw RaftError.compacted }
        if high > lastIndex() + 1 { throw RaftError.unavailable }
        if low >= high { return [] }
        let start = Int(low - entriesStart)
        let end = Int(high - entriesStart)
        return limitSize(Array(storedEntries[start..<end]), maxSize: maxSize)
    }

    /// The term at `index`, for `firstIndex() - 1 ... lastIndex()`.
    public func term(at index: UInt64) throws(RaftError) -> UInt64 {
        if index + 1 == entriesStart { return prefixTerm }
        if index + 1 < entriesStart { throw RaftError.compacted }
        if index > lastIndex() { throw RaftError.unavailable }
        return storedEntries[Int(index - entriesStart)].term
    }

    /// Index of the first entry still stored.
    public func firstIndex() -> UInt64 {
        entriesStart
    }

    /// Index of the last stored entry.
    public func lastIndex() -> UInt64 {
        entriesStart + UInt64(storedEntries.count) - 1
    }

    /// The latest snapshot.
    public func snapshot() throws(RaftError) -> Snapshot {
        latestSnapshot
    }
}

/// Keeps the longest prefix whose total size fits in `maxSize`, but at least one entry.
func limitSize(_ entries: [Entry], maxSize: Int) -> [Entry] {
    guard !entries.isEmpty else { return entries }
    var size = entries[0].byteSize
    var count = 1
    while count < entries.count {
        size += entries[count].byteSize
        if size > maxSize { break }
        count += 1
    }
    return count == entries.count ? entries : Array(entries[..<count])
}
