import Synchronization

/// Counters of a ``LogEngine``, readable from any thread while the owner writes.
public final class LogStatistics: Sendable {
    /// `fdatasync` calls on segment files by the writer (one per batch).
    public let syncs = Atomic<Int>(0)
    /// Batches written.
    public let batches = Atomic<Int>(0)
    /// Bytes written in batches (records and their frames).
    public let bytesWritten = Atomic<Int>(0)
    /// Records written again so that an old segment could be removed.
    public let recordsRewritten = Atomic<Int>(0)
    /// Segment files removed because nothing in them was live any more.
    public let segmentsRemoved = Atomic<Int>(0)
    /// Segment files on disk now (sealed, active and prepared).
    public let segmentFiles = Atomic<Int>(0)
    /// Bytes of the segment files on disk now.
    public let diskBytes = Atomic<Int>(0)
    /// Bytes of records still live (needed by some region).
    public let liveBytes = Atomic<Int>(0)

    init() {}
}
