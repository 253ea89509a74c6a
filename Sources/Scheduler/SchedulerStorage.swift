import KVEngine
import KVProtocol

/// kvsched's durable state in its own LMDB environment (`DIR/data.mdb`), in the `meta` column family:
///
/// | key | value |
/// | --- | --- |
/// | `cluster` | `cluster_id=N bootstrapped=0\|1` |
/// | `tso` | the timestamp oracle's high-water mark, physical milliseconds |
/// | `gc_safe_point` | the MVCC garbage collection safe point (a timestamp) |
/// | `id` | the id allocator's high-water mark |
/// | `store/` + big-endian id | the store's fields (`id= address=`, `removing=1` while it is drained) |
/// | `region/` + big-endian id | the region's fields (`id= start= end= conf_ver= version= peers=`) |
/// | `scheduler/` + name | `enabled=0\|1`, for a balance scheduler turned off or on by `kvctl scheduler` |
///
/// Values are protocol words, so `kvdump sched` and `mdb_dump` show them as text. Every write is a durable
/// LMDB commit: the scheduler writes rarely (bootstrap, new stores, region shape changes, a TSO or id
/// window every few seconds), and an answer is sent only after what it promised is on disk.
public final class SchedulerStorage {
    /// The environment's directory.
    public let directory: String
    private let environment: Environment

    /// Everything persisted, as loaded at open.
    public struct Contents: Sendable {
        /// The cluster id; 0 when the directory is new.
        public var clusterID: UInt64 = 0
        /// Whether the first region exists.
        public var bootstrapped = false
        /// The timestamp oracle's high-water mark (physical milliseconds).
        public var timestampLimit: UInt64 = 0
        /// The id allocator's high-water mark.
        public var idLimit: UInt64 = 0
        /// The MVCC garbage collection safe point.
        public var gcSafePoint: UInt64 = 0
        /// Registered stores.
        public var stores: [StoreDescriptor] = []
        /// Stores being removed (`kvctl store remove`): their replicas move elsewhere.
        public var removingStores: Set<UInt64> = []
        /// Known regions.
        public var regions: [Region] = []
        /// Balance schedulers turned off or on by a client (absent: the default, on).
        public var schedulers: [String: Bool] = [:]
    }

    /// Opens or creates the directory.
    ///
    /// - Parameters:
    ///   - directory: kvsched's data directory.
    ///   - readOnly: Open without writing (kvdump); the directory must exist.
    /// - Throws: ``SchedulerError`` with code `storage` naming the directory when LMDB cannot open it.
    public init(directory: String, readOnly: Bool = false) throws(SchedulerError) {
        self.directory = directory
        var options = EnvironmentOptions()
        options.mapSize = 1 << 30
        options.readOnly = readOnly
        options.createIfMissing = !readOnly
        do {
            environment = try Environment(path: directory, options: options)
        } catch {
            throw SchedulerError(.storage, "cannot open scheduler data directory \(directory): \(error)")
        }
    }

    deinit { environment.close() }

    /// Reads everything persisted.
    ///
    /// - Throws: ``SchedulerError`` with code `corrupt` naming the key whose value cannot be decoded.
    public func load() throws(SchedulerError) -> Contents {
        do {
            return try environment.read { txn throws -> Contents in
                var contents = Contents()
                guard environment.hasColumnFamily(.meta) else { return contents }
                if try txn.get(Key.nodeIdentity, in: .meta) != nil {
                    throw SchedulerError(.corrupt, "\(directory) is a kvnode data directory, not a kvsched one")
                }
                if let value = try txn.get(Key.cluster, in: .meta) {
                    let fields = try Self.fields(value, key: "cluster")
                    contents.clusterID = try fields.number("cluster_id")
                    contents.bootstrapped = try fields.number("bootstrapped") == 1
                }
                contents.timestampLimit = try Self.number(txn.get(Key.timestamp, in: .meta), key: "tso")
                contents.idLimit = try Self.number(txn.get(Key.id, in: .meta), key: "id")
                contents.gcSafePoint = try Self.number(txn.get(Key.gcSafePoint, in: .meta), key: "gc_safe_point")
                for pair in try txn.scan(in: .meta, range: Key.range(Key.storePrefix)) {
                    let fields = try Self.fields(pair.value, key: "store")
                    contents.stores.append(StoreDescriptor(id: try fields.number("id"), address: try fields.text("address")))
                    if fields["removing"] == Array("1".utf8) { contents.removingStores.insert(try fields.number("id")) }
                }
                for pair in try txn.scan(in: .meta, range: Key.range(Key.regionPrefix)) {
                    contents.regions.append(try Region(fields: try Self.fields(pair.value, key: "region")))
                }
                for pair in try txn.scan(in: .meta, range: Key.range(Key.schedulerPrefix)) {
                    let name = String(decoding: pair.key.dropFirst(Key.schedulerPrefix.count), as: UTF8.self)
                    contents.schedulers[name] = try Self.fields(pair.value, key: "scheduler").number("enabled") == 1
                }
                return contents
            }
        } catch let error as SchedulerError {
            throw error
        } catch let error as ProtocolError {
            throw SchedulerError(.corrupt, "scheduler data in \(directory) is damaged: \(error.message)")
        } catch {
            throw SchedulerError(.storage, "cannot read scheduler data in \(directory): \(error)")
        }
    }

    /// One durable change.
    public enum Change: Sendable {
        /// Sets the cluster id and bootstrap flag.
        case cluster(id: UInt64, bootstrapped: Bool)
        /// Raises the timestamp oracle's high-water mark.
        case timestampLimit(UInt64)
        /// Raises the id allocator's high-water mark.
        case idLimit(UInt64)
        /// Adds or replaces a store; `removing` marks one being drained.
        case store(StoreDescriptor, removing: Bool = false)
        /// Adds or replaces a region.
        case region(Region)
        /// Removes a region (merged into, or replaced by, newer ones).
        case removeRegion(UInt64)
        /// Turns a balance scheduler on or off.
        case scheduler(name: String, enabled: Bool)
        /// Raises the MVCC garbage collection safe point.
        case gcSafePoint(UInt64)
    }

    /// Writes changes in one durable LMDB commit; returns once they are on disk.
    ///
    /// - Throws: ``SchedulerError`` with code `storage` when the commit fails (full disk, I/O error).
    public func save(_ changes: [Change]) throws(SchedulerError) {
        guard !changes.isEmpty else { return }
        do {
            try environment.write { txn in
                for change in changes {
                    switch change {
                    case .cluster(let id, let bootstrapped):
                        try txn.put(Self.text("cluster_id=\(id) bootstrapped=\(bootstrapped ? 1 : 0)"), for: Key.cluster, in: .meta)
                    case .timestampLimit(let limit):
                        try txn.put(Self.text(String(limit)), for: Key.timestamp, in: .meta)
                    case .idLimit(let limit):
                        try txn.put(Self.text(String(limit)), for: Key.id, in: .meta)
                    case .store(let store, let removing):
                        var fields = ProtocolFields()
                        fields.append("id", store.id)
                        fields.append("address", store.address)
                        if removing { fields.append("removing", 1) }
                        try txn.put(Self.text(fields.words.joined(separator: " ")), for: Key.store(store.id), in: .meta)
                    case .region(let region):
                        try txn.put(Self.text(region.fields.words.joined(separator: " ")), for: Key.region(region.id), in: .meta)
                    case .removeRegion(let id):
                        _ = try txn.delete(Key.region(id), in: .meta)
                    case .scheduler(let name, let enabled):
                        try txn.put(Self.text("enabled=\(enabled ? 1 : 0)"), for: Key.schedulerPrefix + Array(name.utf8), in: .meta)
                    case .gcSafePoint(let safePoint):
                        try txn.put(Self.text(String(safePoint)), for: Key.gcSafePoint, in: .meta)
                    }
                }
            }
        } catch {
            throw SchedulerError(.storage, "cannot write scheduler data in \(directory): \(error)")
        }
    }

    private static func text(_ string: String) -> [UInt8] { Array(string.utf8) }

    private static func fields(_ value: [UInt8], key: String) throws -> ProtocolFields {
        do {
            return try ProtocolFields(parsing: value.split(separator: 0x20))
        } catch {
            throw SchedulerError(.corrupt, "scheduler data in \(key) is damaged: \(error.message)")
        }
    }

    private static func number(_ value: [UInt8]?, key: String) throws -> UInt64 {
        guard let value else { return 0 }
        guard let number = UInt64(String(decoding: value, as: UTF8.self)) else {
            throw SchedulerError(.corrupt, "scheduler data in \(key) is not a number")
        }
        return number
    }

    /// The keys of the `meta` column family.
    enum Key {
        static let cluster = Array("cluster".utf8)
        /// Where a kvnode keeps its store identity: a directory holding it is a node's, not the scheduler's.
        static let nodeIdentity = Array("store".utf8)
        static let timestamp = Array("tso".utf8)
        static let id = Array("id".utf8)
        static let gcSafePoint = Array("gc_safe_point".utf8)
        static let storePrefix = Array("store/".utf8)
        static let regionPrefix = Array("region/".utf8)
        static let schedulerPrefix = Array("scheduler/".utf8)

        /// The keys that start with `prefix` (whose last byte is never 0xFF here).
        static func range(_ prefix: [UInt8]) -> KeyRange {
            KeyRange(lower: prefix, upper: prefix.dropLast() + [prefix.last! + 1])
        }

        static func store(_ id: UInt64) -> [UInt8] { storePrefix + bigEndian(id) }
        static func region(_ id: UInt64) -> [UInt8] { regionPrefix + bigEndian(id) }

        private static func bigEndian(_ value: UInt64) -> [UInt8] {
            (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
        }
    }
}

// MARK: - Sendable

// LMDB environments are safe to use from many threads; the class holds nothing else mutable.
extension SchedulerStorage: @unchecked Sendable {}
