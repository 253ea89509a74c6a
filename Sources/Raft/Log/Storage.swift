/// The persisted part of a node's log, as the caller stored it by following the ``Ready`` contract.
///
/// The node only reads through this protocol; all writes are the caller's (append entries, set the hard
/// state, install snapshots, compact). Raft calls these methods synchronously from `step`, `tick` and
/// `ready`, so `firstIndex()`/`lastIndex()` should be cheap (keep them cached in memory).
///
/// Indexes: the storage holds entries `firstIndex() ... lastIndex()`, and knows the term of
/// `firstIndex() - 1` (the index of the latest snapshot, or 0).
public protocol Storage: AnyObject {
    /// The hard state and configuration to start from.
    ///
    /// - Returns: the persisted hard state and the membership as of the latest snapshot.
    /// - Throws: a storage error.
    func initialState() throws(RaftError) -> (hardState: HardState, confState: ConfState)

    /// Entries in `[low, high)`, stopping early once their total ``Entry/byteSize`` would exceed `maxSize`
    /// (but always at least one entry).
    ///
    /// - Parameters:
    ///   - low: first index wanted.
    ///   - high: one past the last index wanted.
    ///   - maxSize: byte budget.
    /// - Returns: the entries.
    /// - Throws: ``RaftError/compacted`` if `low < firstIndex()`, ``RaftError/unavailable`` if
    ///   `high > lastIndex() + 1`.
    func entries(from low: UInt64, to high: UInt64, maxSize: Int) throws(RaftError) -> [Entry]

    /// The term of the entry at `index`, for `firstIndex() - 1 ... lastIndex()`.
    ///
    /// - Parameter index: the index.
    /// - Returns: its term.
    /// - Throws: ``RaftError/compacted`` or ``RaftError/unavailable`` outside that range.
    func term(at index: UInt64) throws(RaftError) -> UInt64

    /// Index of the first entry available (the snapshot index + 1).
    func firstIndex() -> UInt64

    /// Index of the last entry (the snapshot index if there is none).
    func lastIndex() -> UInt64

    /// The latest snapshot, to send to a follower that is behind `firstIndex()`.
    ///
    /// - Returns: the snapshot.
    /// - Throws: ``RaftError/snapshotTemporarilyUnavailable`` if it is being built; Raft retries later.
    func snapshot() throws(RaftError) -> Snapshot
}
