import KVEngine
import KVProtocol

/// Applied writes not yet in LMDB, sorted by key: a value, or nil for a deletion. Immutable once built, so
/// readers on any thread share it without locks.
final class ChangeLayer: Sendable {
    /// Keys in ascending byte order, each once.
    let keys: [[UInt8]]
    /// `values[i]` belongs to `keys[i]`; nil means deleted.
    let values: [[UInt8]?]
    /// Memory held, roughly: keys, values and per-pair overhead.
    let byteCount: Int
    /// `KeyGroup.hash` of each key, in key order (kept so that a merge rebuilds its filter without hashing).
    let groupHashes: [UInt64]
    /// A Bloom filter of the key groups the layer holds: a point read or an MVCC seek within one user key
    /// skips the (usually many) layers that hold nothing of that key, instead of a binary search in each.
    private let filter: [UInt64]

    /// What a layer says about a key.
    enum Lookup: Equatable {
        case unchanged
        case deleted
        case value([UInt8])
    }

    /// Builds a layer from changes in no particular order.
    convenience init(changes: [ByteKey: [UInt8]?]) {
        let sorted = changes.sorted { ByteOrder.precedes($0.key.bytes, $1.key.bytes) }
        self.init(keys: sorted.map(\.key.bytes), values: sorted.map(\.value))
    }

    init(keys: [[UInt8]], values: [[UInt8]?], groupHashes: [UInt64]? = nil) {
        self.keys = keys
        self.values = values
        var bytes = 0
        for i in keys.indices { bytes += keys[i].count + (values[i]?.count ?? 0) + Self.overheadPerPair }
        byteCount = bytes
        let hashes = groupHashes ?? keys.map(KeyGroup.hash)
        self.groupHashes = hashes
        // About 16 bits per key and two probes: a few percent of false positives.
        var words = 1
        while words * 64 < hashes.count * 16 { words *= 2 }
        var filter = [UInt64](repeating: 0, count: words)
        let mask = UInt64(words * 64 - 1)
        for hash in hashes {
            let first = hash & mask
            let second = (hash >> 32) & mask
            filter[Int(first >> 6)] |= 1 << (first & 63)
            filter[Int(second >> 6)] |= 1 << (second & 63)
        }
        self.filter = filter
    }

    /// Bytes charged per pair beyond its key and value (array slots, group hash and filter bits, allocation
    /// headers).
    static let overheadPerPair = 74

    /// Whether the layer may hold a key of the group whose `KeyGroup.hash` is `groupHash` (false: it holds
    /// none).
    func mayHold(groupHash hash: UInt64) -> Bool {
        let mask = UInt64(filter.count * 64 - 1)
        let first = hash & mask
        let second = (hash >> 32) & mask
        return filter[Int(first >> 6)] & (1 << (first & 63)) != 0 && filter[Int(second >> 6)] & (1 << (second & 63)) != 0
    }


    var count: Int { keys.count }

    func lookup(_ key: [UInt8]) -> Lookup {
        let i = lowerBound(key)
        guard i < keys.count, ByteOrder.compare(keys[i], key) == 0 else { return .unchanged }
        return values[i].map(Lookup.value) ?? .deleted
    }

    /// The position of the first key not below `key`.
    func lowerBound(_ key: [UInt8]) -> Int {
        var low = 0
        var high = keys.count
        while low < high {
            let mid = (low + high) / 2
            if ByteOrder.precedes(keys[mid], key) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// One layer holding both, `newer` winning where they share a key.
    static func merge(newer: ChangeLayer, older: ChangeLayer) -> ChangeLayer {
        var keys: [[UInt8]] = []
        var values: [[UInt8]?] = []
        var hashes: [UInt64] = []
        keys.reserveCapacity(newer.count + older.count)
        values.reserveCapacity(newer.count + older.count)
        hashes.reserveCapacity(newer.count + older.count)
        var i = 0
        var j = 0
        while i < newer.count || j < older.count {
            let order = i == newer.count ? 1 : j == older.count ? -1 : ByteOrder.compare(newer.keys[i], older.keys[j])
            if order < 0 {
                keys.append(newer.keys[i])
                values.append(newer.values[i])
                hashes.append(newer.groupHashes[i])
                i += 1
            } else if order > 0 {
                keys.append(older.keys[j])
                values.append(older.values[j])
                hashes.append(older.groupHashes[j])
                j += 1
            } else {
                keys.append(newer.keys[i])
                values.append(newer.values[i])
                hashes.append(newer.groupHashes[i])
                i += 1
                j += 1
            }
        }
        return ChangeLayer(keys: keys, values: values, groupHashes: hashes)
    }
}
