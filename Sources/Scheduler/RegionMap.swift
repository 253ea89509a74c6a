import KVProtocol

/// The scheduler's picture of every region: by id, and ordered by start key for lookups by key.
///
/// Regions in the map never overlap: placing a region removes the older regions its range covers (a split
/// or merge reported by the newer side first).
public struct RegionMap: Sendable {
    /// What the scheduler knows of one region.
    public struct Entry: Sendable, Hashable {
        /// Range, epoch, peers.
        public var region: Region
        /// The leader's peer id, 0 while unknown.
        public var leaderPeerID: UInt64
        /// Approximate bytes, from the leader's last heartbeat.
        public var approximateSize: UInt64
        /// Approximate keys, from the leader's last heartbeat.
        public var approximateKeys: UInt64

        /// Creates an entry.
        public init(region: Region, leaderPeerID: UInt64, approximateSize: UInt64, approximateKeys: UInt64) {
            self.region = region
            self.leaderPeerID = leaderPeerID
            self.approximateSize = approximateSize
            self.approximateKeys = approximateKeys
        }

        /// The store holding the leader, if known.
        public var leaderStoreID: UInt64? {
            region.peers.first { $0.id == leaderPeerID }?.storeID
        }
    }

    private var byID: [UInt64: Entry] = [:]
    /// (start key, region id), sorted by start key.
    private var byStart: [(start: [UInt8], id: UInt64)] = []

    /// An empty map.
    public init() {}

    /// How many regions.
    public var count: Int { byID.count }

    /// The region with an id.
    public subscript(id: UInt64) -> Entry? { byID[id] }

    /// The region whose range holds `key`.
    public func region(containing key: [UInt8]) -> Entry? {
        guard let index = lastIndex(startingAtOrBefore: key), let entry = byID[byStart[index].id],
            entry.region.contains(key)
        else { return nil }
        return entry
    }

    /// Up to `limit` regions in key order, starting with the one holding `start`.
    public func regions(from start: [UInt8], limit: Int) -> [Entry] {
        var index = lastIndex(startingAtOrBefore: start) ?? 0
        if index < byStart.count, let entry = byID[byStart[index].id], !entry.region.contains(start),
            !start.lexicographicallyPrecedes(entry.region.startKey)
        {
            index += 1
        }
        return byStart[index...].prefix(limit).compactMap { byID[$0.id] }
    }

    /// Every region, in key order.
    public var all: [Entry] { byStart.compactMap { byID[$0.id] } }

    /// Regions whose ranges overlap `region`'s, other than `region` itself.
    public func overlaps(_ region: Region) -> [Entry] {
        byID.values.filter { entry in
            entry.region.id != region.id && Self.rangesOverlap(entry.region, region)
        }
    }

    /// Puts a region in, replacing the entry with its id; the caller has removed overlapping regions.
    public mutating func place(_ entry: Entry) {
        if let old = byID[entry.region.id] {
            if old.region.startKey != entry.region.startKey { removeFromIndex(old.region) }
            else { byID[entry.region.id] = entry; return }
        }
        byID[entry.region.id] = entry
        let insertAt = byStart.firstIndex { !$0.start.lexicographicallyPrecedes(entry.region.startKey) } ?? byStart.count
        byStart.insert((entry.region.startKey, entry.region.id), at: insertAt)
    }

    /// Removes a region.
    public mutating func remove(_ id: UInt64) {
        guard let old = byID.removeValue(forKey: id) else { return }
        removeFromIndex(old.region)
    }

    private mutating func removeFromIndex(_ region: Region) {
        byStart.removeAll { $0.id == region.id }
    }

    /// The index of the last region starting at or before `key`.
    private func lastIndex(startingAtOrBefore key: [UInt8]) -> Int? {
        var low = 0
        var high = byStart.count
        while low < high {
            let middle = (low + high) / 2
            if key.lexicographicallyPrecedes(byStart[middle].start) { high = middle } else { low = middle + 1 }
        }
        return low == 0 ? nil : low - 1
    }

    private static func rangesOverlap(_ a: Region, _ b: Region) -> Bool {
        // [a.start, a.end) and [b.start, b.end) overlap when each starts before the other ends.
        let aStartsBeforeBEnds = b.endKey.isEmpty || a.startKey.lexicographicallyPrecedes(b.endKey)
        let bStartsBeforeAEnds = a.endKey.isEmpty || b.startKey.lexicographicallyPrecedes(a.endKey)
        return aStartsBeforeBEnds && bStartsBeforeAEnds
    }
}
