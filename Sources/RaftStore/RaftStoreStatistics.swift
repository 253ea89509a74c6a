import Synchronization

/// Counters of a running ``RaftStore``, readable from any thread (`STATS` reads them).
public final class RaftStoreStatistics: Sendable {
    /// Write requests applied.
    public let writes = Atomic<Int>(0)
    /// Rounds of the store loop that wrote the log.
    public let rounds = Atomic<Int>(0)
    /// Rounds whose only log change was a commit index: no log write, no sync (the hard state waits for the
    /// next write).
    public let unsyncedRounds = Atomic<Int>(0)
    /// Entries proposed to Raft.
    public let proposals = Atomic<Int>(0)
    /// Snapshots built for followers.
    public let snapshotsBuilt = Atomic<Int>(0)
    /// Snapshots received and installed.
    public let snapshotsInstalled = Atomic<Int>(0)
    /// Entries applied (including those replayed at start).
    public let appliedEntries = Atomic<Int>(0)
    /// Entries applied (and answered) before the log write of the round that applied them, because this
    /// node's log already held them durably (cluster nodes; see `applyDurableCommittedEntries`).
    public let appliedBeforeSync = Atomic<Int>(0)
    /// Entries replayed from the log at start (applied before the crash or stop, not yet in LMDB).
    public let replayedEntries = Atomic<Int>(0)
    /// The applied index of the node's first region (the only one of a standalone node).
    public let appliedIndex = Atomic<UInt64>(0)
    /// The applied index LMDB holds durably for that region.
    public let durableAppliedIndex = Atomic<UInt64>(0)
    /// LMDB transactions that moved applied writes to disk (each two device flushes).
    public let lmdbCommits = Atomic<Int>(0)
    /// Bytes applied but not yet in LMDB.
    public let unflushedBytes = Atomic<Int>(0)
    /// The most unflushed bytes seen.
    public let peakUnflushedBytes = Atomic<Int>(0)
    /// Regions with a peer on this node.
    public let regions = Atomic<Int>(0)
    /// Regions whose peer here hibernates, as of the last keep-alive round.
    public let hibernatingRegions = Atomic<Int>(0)
    /// Hibernating followers woken because their leader's store went silent.
    public let hibernationWakeUps = Atomic<Int>(0)
    /// Splits applied on this node (one per split per replica).
    public let splits = Atomic<Int>(0)
    /// Rounds in which new writes waited because too much was unflushed.
    public let backPressureRounds = Atomic<Int>(0)

    init() {}
}
