import KVProtocol

/// The scheduler's API, over one ``LineConnection``: timestamps, ids, and the cluster's stores and regions.
///
/// ```swift
/// let scheduler = try SchedulerClient(address: try NodeAddress(parsing: "127.0.0.1:20100"))
/// let startTimestamp = try scheduler.timestamps(count: 1)
/// let route = try scheduler.region(containing: Array("k".utf8))
/// ```
public final class SchedulerClient {
    /// The connection requests go over.
    public let connection: LineConnection

    /// The scheduler's default address.
    public static let standardAddress = NodeAddress.tcp(host: "127.0.0.1", port: 20100)

    /// A region as the scheduler reports it, with its leader.
    public struct RegionRecord: Sendable, Hashable {
        /// Range, epoch and peers.
        public var region: Region
        /// The leader's peer id, 0 when unknown.
        public var leaderPeerID: UInt64
        /// The leader's store id, 0 when unknown.
        public var leaderStoreID: UInt64
        /// The leader's address, empty when unknown.
        public var leaderAddress: String
        /// Approximate bytes, from the last heartbeat.
        public var approximateSize: UInt64
        /// Approximate keys, from the last heartbeat.
        public var approximateKeys: UInt64

        /// Creates a record (leader and size unknown unless given).
        public init(
            region: Region, leaderPeerID: UInt64 = 0, leaderStoreID: UInt64 = 0, leaderAddress: String = "",
            approximateSize: UInt64 = 0, approximateKeys: UInt64 = 0
        ) {
            self.region = region
            self.leaderPeerID = leaderPeerID
            self.leaderStoreID = leaderStoreID
            self.leaderAddress = leaderAddress
            self.approximateSize = approximateSize
            self.approximateKeys = approximateKeys
        }
    }

    /// A store as the scheduler reports it.
    public struct StoreRecord: Sendable, Hashable {
        /// Id and address.
        public var descriptor: StoreDescriptor
        /// `up`, `disconnected` or `down`.
        public var state: String
        /// Region peers on it, from the region map.
        public var regionCount: UInt64
        /// Leaders on it.
        public var leaderCount: UInt64
        /// Bytes its directory may use (0 when unknown).
        public var capacity: UInt64
        /// Bytes free (0 when unknown).
        public var available: UInt64
        /// Milliseconds since its last heartbeat.
        public var lastHeartbeatMilliseconds: UInt64
    }

    /// Connects to the scheduler.
    ///
    /// - Parameters:
    ///   - address: The scheduler.
    ///   - timeout: The bound on each wait, in seconds.
    /// - Throws: ``KVClientError`` when it cannot be reached.
    public init(address: NodeAddress, timeout: Double? = 10) throws(KVClientError) {
        connection = try LineConnection(to: address, timeout: timeout)
    }

    /// Sends a scheduler request and returns its answer, turning `ERR` into a thrown error.
    public func call(_ request: SchedulerRequest) throws(KVClientError) -> Response {
        let response = try connection.call(.scheduler(request))
        if case .error(let error) = response { throw KVClientError(error) }
        return response
    }

    /// `CLUSTER`: the cluster id, whether it is bootstrapped, and how many stores and regions it has.
    public func clusterInfo() throws(KVClientError) -> (clusterID: UInt64, bootstrapped: Bool, stores: UInt64, regions: UInt64) {
        let fields = try okFields(.clusterInfo)
        return try decode {
            (try fields.number("cluster_id"), try fields.number("bootstrapped") == 1, try fields.number("stores"), try fields.number("regions"))
        }
    }

    /// `TSO n`: the first of `count` fresh timestamps.
    public func timestamps(count: Int = 1) throws(KVClientError) -> UInt64 {
        let fields = try okFields(.timestamps(count: count))
        return try decode { try fields.number("first") }
    }

    /// `GC_SAFE_POINT`: the MVCC garbage collection safe point.
    public func gcSafePoint() throws(KVClientError) -> UInt64 {
        let fields = try okFields(.gcSafePoint)
        return try decode { try fields.number("safe_point") }
    }

    /// `SET_GC_SAFE_POINT ts`: raises the safe point; returns it (unchanged when `ts` is below it).
    public func setGCSafePoint(_ safePoint: UInt64) throws(KVClientError) -> UInt64 {
        let fields = try okFields(.setGCSafePoint(safePoint))
        return try decode { try fields.number("safe_point") }
    }

    /// `ALLOC_ID n`: the first of `count` fresh ids.
    public func allocateIDs(count: Int = 1) throws(KVClientError) -> UInt64 {
        let fields = try okFields(.allocateIDs(count: count))
        return try decode { try fields.number("first") }
    }

    /// The region holding `key`.
    public func region(containing key: [UInt8]) throws(KVClientError) -> RegionRecord {
        let fields = try okFields(.regionByKey(key))
        return try decode { try Self.regionRecord(fields) }
    }

    /// The region with an id.
    public func region(id: UInt64) throws(KVClientError) -> RegionRecord {
        let fields = try okFields(.regionByID(id))
        return try decode { try Self.regionRecord(fields) }
    }

    /// Up to `limit` regions in key order from the one holding `start`.
    public func regions(from start: [UInt8] = [], limit: Int = SchedulerRequest.defaultRegionLimit) throws(KVClientError) -> [RegionRecord] {
        let records = try recordFields(.regions(start: start, limit: limit))
        return try decode { try records.map(Self.regionRecord) }
    }

    /// Queues the transfer of a region's leadership to its peer on a store; false when it leads there already.
    @discardableResult
    public func transferLeader(region: UInt64, to store: UInt64) throws(KVClientError) -> Bool {
        let fields = try okFields(.transferLeader(regionID: region, storeID: store))
        return fields["already"] == nil
    }

    /// Starts draining a store (`REMOVE_STORE`); false when it was being removed already.
    @discardableResult
    public func removeStore(_ id: UInt64) throws(KVClientError) -> Bool {
        let fields = try okFields(.removeStore(id))
        return fields["already"] == nil
    }

    /// The operators running, one field set each (`region= kind= peer= store= reason= age_ms=`).
    public func operators() throws(KVClientError) -> [ProtocolFields] {
        try recordFields(.operators)
    }

    /// The balance schedulers, one field set each (`name= enabled=0|1 running=N`).
    public func schedulers() throws(KVClientError) -> [ProtocolFields] {
        try recordFields(.schedulers)
    }

    /// Turns a balance scheduler on or off; false when it already was.
    @discardableResult
    public func setScheduler(_ name: String, enabled: Bool) throws(KVClientError) -> Bool {
        let fields = try okFields(enabled ? .addScheduler(name) : .removeScheduler(name))
        return fields["already"] == nil
    }

    /// Every store.
    public func stores() throws(KVClientError) -> [StoreRecord] {
        let records = try recordFields(.stores)
        return try decode { try records.map(Self.storeRecord) }
    }

    private func okFields(_ request: SchedulerRequest) throws(KVClientError) -> ProtocolFields {
        guard case .ok(let words) = try call(request) else { throw unexpected(request) }
        return try decode { try ProtocolFields(parsing: words) }
    }

    private func recordFields(_ request: SchedulerRequest) throws(KVClientError) -> [ProtocolFields] {
        guard let records = try call(request).recordWords else { throw unexpected(request) }
        return try decode { try records.map { try ProtocolFields(parsing: $0) } }
    }

    private func decode<T>(_ body: () throws -> T) throws(KVClientError) -> T {
        do {
            return try body()
        } catch {
            let reason = (error as? ProtocolError)?.message ?? "\(error)"
            throw KVClientError(.badResponse, "malformed answer from the scheduler at \(connection.address): \(reason)")
        }
    }

    private func unexpected(_ request: SchedulerRequest) -> KVClientError {
        KVClientError(.badResponse, "unexpected answer to \(request.verb) from \(connection.address)")
    }

    private static func regionRecord(_ fields: ProtocolFields) throws(ProtocolError) -> RegionRecord {
        RegionRecord(
            region: try Region(fields: fields), leaderPeerID: try fields.number("leader", default: 0),
            leaderStoreID: try fields.number("leader_store", default: 0),
            leaderAddress: fields["leader_address"].map { String(decoding: $0, as: UTF8.self) } ?? "",
            approximateSize: try fields.number("size", default: 0), approximateKeys: try fields.number("keys", default: 0))
    }

    private static func storeRecord(_ fields: ProtocolFields) throws(ProtocolError) -> StoreRecord {
        StoreRecord(
            descriptor: StoreDescriptor(id: try fields.number("id"), address: try fields.text("address")),
            state: try fields.text("state"), regionCount: try fields.number("regions", default: 0),
            leaderCount: try fields.number("leaders", default: 0), capacity: try fields.number("capacity", default: 0),
            available: try fields.number("available", default: 0),
            lastHeartbeatMilliseconds: try fields.number("last_heartbeat_ms", default: 0))
    }
}

// MARK: - Sendable

// The connection is used by one thread at a time through this type.
extension SchedulerClient: @unchecked Sendable {}
