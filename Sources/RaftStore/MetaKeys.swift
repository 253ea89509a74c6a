import KVProtocol
import KVEngine

/// The keys of the `meta` column family, where a node keeps what must change atomically with applied data.
///
/// | key | value |
/// | --- | --- |
/// | `store` | ``StoreIdentity`` |
/// | `region/` + region id (u64, big-endian) | ``Region`` (its range, epoch and peers) |
/// | `applied/` + region id (u64, big-endian) | the region's applied index (u64, big-endian) |
/// | `tso_limit` | a standalone node's timestamp high-water mark (u64, big-endian) |
/// | `gc_safe_point` | a standalone node's GC safe point (u64, big-endian) |
///
/// The applied index changes in the same LMDB transaction as the data it covers, so after a crash the
/// region replays its log from exactly there.
public enum MetaKeys {
    /// The store identity.
    public static let store = Array("store".utf8)
    /// Prefix of the region states.
    public static let regionPrefix = Array("region/".utf8)
    /// Prefix of the applied indexes.
    public static let appliedPrefix = Array("applied/".utf8)

    /// A standalone node's timestamp high-water mark (u64, big-endian milliseconds): every timestamp handed
    /// out is below it.
    public static let timestampLimit = Array("tso_limit".utf8)
    /// A standalone node's MVCC garbage collection safe point (u64, big-endian).
    public static let gcSafePoint = Array("gc_safe_point".utf8)
    /// The key kvsched keeps its cluster record under; a directory holding it is a scheduler's, not a node's.
    static let schedulerMarker = Array("cluster".utf8)
    /// The key of a region's state.
    public static func region(_ id: UInt64) -> [UInt8] { regionPrefix + bigEndian(id) }
    /// The key of a region's applied index.
    public static func applied(_ id: UInt64) -> [UInt8] { appliedPrefix + bigEndian(id) }
    /// `snapshot/` + big-endian region id: index and term of the last snapshot installed into LMDB.
    public static let snapshotPrefix = Array("snapshot/".utf8)
    /// `tombstone/` + big-endian region id: the `conf_ver` at which this store's peer was removed.
    public static let tombstonePrefix = Array("tombstone/".utf8)
    /// The key of a region's tombstone.
    public static func tombstone(_ id: UInt64) -> [UInt8] { tombstonePrefix + bigEndian(id) }
    /// The key of a region's last installed snapshot.
    public static func snapshot(_ id: UInt64) -> [UInt8] { snapshotPrefix + bigEndian(id) }

    static func bigEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * $0)) }
    }

    static func decodeIndex(_ bytes: [UInt8]) throws -> UInt64 {
        var r = BinaryReader(bytes, what: "applied index")
        let value = try r.u64()
        try r.finish()
        return value
    }
}

/// A node's durable raftstore state as LMDB holds it: identity, regions and applied indexes.
///
/// Read at start-up by the store and offline by `kvdump`.
public struct StoreMeta: Sendable {
    /// The identity, or nil for a directory never bootstrapped.
    public var identity: StoreIdentity?
    /// Every region, by id.
    public var regions: [UInt64: Region] = [:]
    /// Applied index per region (absent: 0).
    public var applied: [UInt64: UInt64] = [:]
    /// Regions whose peer here was removed, with the `conf_ver` of the removal.
    public var tombstones: [UInt64: UInt64] = [:]
    /// The last snapshot installed into LMDB per region: its index and term.
    public var snapshots: [UInt64: (index: UInt64, term: UInt64)] = [:]

    /// Reads the `meta` column family.
    ///
    /// - Parameter txn: A read (or write) transaction.
    /// - Throws: ``RaftStoreError`` when a value does not decode; engine failures.
    public init(reading txn: Transaction) throws {
        do {
            identity = try txn.get(MetaKeys.store, in: .meta).map(StoreIdentity.init(decoding:))
            try txn.forEach(in: .meta, range: KeyRange(lower: MetaKeys.regionPrefix, upper: Array("region0".utf8))) { _, value in
                let region = try Region(decoding: Array(value))
                regions[region.id] = region
                return true
            }
            try txn.forEach(in: .meta, range: KeyRange(lower: MetaKeys.appliedPrefix, upper: Array("applied0".utf8))) { key, value in
                guard key.count == MetaKeys.appliedPrefix.count + 8 else {
                    throw DecodingError(description: "meta key of \(key.count) bytes under applied/")
                }
                let id = UnsafeRawBufferPointer(rebasing: key[MetaKeys.appliedPrefix.count...]).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                applied[id] = try MetaKeys.decodeIndex(Array(value))
                return true
            }
            try txn.forEach(in: .meta, range: KeyRange(lower: MetaKeys.snapshotPrefix, upper: Array("snapshot0".utf8))) { key, value in
                guard key.count == MetaKeys.snapshotPrefix.count + 8 else {
                    throw DecodingError(description: "meta key of \(key.count) bytes under snapshot/")
                }
                let id = UnsafeRawBufferPointer(rebasing: key[MetaKeys.snapshotPrefix.count...]).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                var r = BinaryReader(Array(value), what: "snapshot record")
                snapshots[id] = (try r.u64(), try r.u64())
                return true
            }
            try txn.forEach(in: .meta, range: KeyRange(lower: MetaKeys.tombstonePrefix, upper: Array("tombstone0".utf8))) { key, value in
                guard key.count == MetaKeys.tombstonePrefix.count + 8 else {
                    throw DecodingError(description: "meta key of \(key.count) bytes under tombstone/")
                }
                let id = UnsafeRawBufferPointer(rebasing: key[MetaKeys.tombstonePrefix.count...]).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                tombstones[id] = try MetaKeys.decodeIndex(Array(value))
                return true
            }
        } catch let error as DecodingError {
            throw RaftStoreError(.corrupt, "the meta column family is damaged: \(error.description)")
        }
    }
}
