/// Hands out cluster-wide unique ids (stores, regions, peers), never the same one twice, even across restarts.
///
/// Ids are reserved in batches: the end of the batch is made durable first, and a restarted allocator starts
/// after it (skipping what the old batch did not use).
public struct IDAllocator: Sendable {
    private var nextID: UInt64
    /// The durable high-water mark: every id handed out is below it.
    public private(set) var persistedLimit: UInt64
    private let batch: UInt64

    /// Starts after everything an allocator with high-water mark `persistedLimit` could have handed out.
    ///
    /// - Parameters:
    ///   - persistedLimit: The mark loaded from disk (0 for a new cluster; ids start at 1).
    ///   - batch: How many ids to reserve per durable write.
    public init(persistedLimit: UInt64, batch: UInt64) {
        self.nextID = max(1, persistedLimit)
        self.persistedLimit = persistedLimit
        self.batch = max(1, batch)
    }

    /// Hands out `count` consecutive ids.
    ///
    /// - Parameters:
    ///   - count: How many.
    ///   - persist: Makes a new high-water mark durable before ids at or past the old one are handed out. When
    ///     it throws, nothing is handed out.
    /// - Returns: The first id; the others follow it.
    public mutating func next<Failure: Error>(count: Int, persist: (UInt64) throws(Failure) -> Void) throws(Failure) -> UInt64 {
        let first = nextID
        let end = first + UInt64(count)
        if end > persistedLimit {
            let limit = end + batch
            try persist(limit)
            persistedLimit = limit
        }
        nextID = end
        return first
    }
}
