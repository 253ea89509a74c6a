/// How a ``LogEngine`` is opened and sized.
public struct LogEngineOptions: Sendable {
    /// The size of each segment file, preallocated and zero-filled before use (at least 64 KiB). A batch
    /// larger than a whole segment still fits: that segment grows.
    public var segmentSize = 32 << 20
    /// Sealed segments kept before the live records of the oldest are rewritten so that it can be removed.
    /// Disk use stays near `(maxSealedSegments + 2) * segmentSize` (sealed, active, one prepared ahead) plus
    /// live records.
    public var maxSealedSegments = 2
    /// A region whose live entries exceed this is not rewritten; ``LogEngine/regionsHoldingOldSegments``
    /// names it so its owner can compact its log instead. At most half of ``LogFormat/batchTargetBytes``: a
    /// region's rewritten records go into one batch.
    public var maxRewriteBytesPerRegion = 4 << 20
    /// Recent entries kept in memory per region, so Raft rarely reads the files.
    public var entryCacheBytesPerRegion = 4 << 20
    /// Prepare the next segment on a background thread while the current one fills. Tests turn it off to
    /// make every file operation happen in a repeatable order (the segment is then prepared when needed).
    public var prepareSegmentsInBackground = true
    /// Open without writing: no truncation of an interrupted tail, no preallocation, no removals. Safe beside a
    /// live node (an in-progress write looks like an interrupted one and is left out).
    public var readOnly = false

    /// The defaults: 32 MiB segments, two sealed segments kept, read-write.
    public init() {}
}
