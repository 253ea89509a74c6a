/// A request to `kvsched`, the scheduler: cluster bootstrap, ids, timestamps, heartbeats and the region map.
///
/// See `kvproto(7)` for each verb's wire form and answer. Storage nodes send the heartbeats; clients look
/// regions up and ask for timestamps.
public enum SchedulerRequest: Sendable, Hashable {
    /// `CLUSTER` → `OK cluster_id=N bootstrapped=0|1 stores=N regions=N`.
    case clusterInfo
    /// `BOOTSTRAP store=ID address=ADDR region=ID peer=ID` → `OK cluster_id=N`: records the first store and
    /// the first region (all keys, one peer on that store). Refused with `ALREADY_BOOTSTRAPPED` afterwards.
    case bootstrap(store: StoreDescriptor, regionID: UInt64, peerID: UInt64)
    /// `ALLOC_ID [n]` → `OK first=N count=n`: n fresh ids, never handed out before, even across restarts.
    case allocateIDs(count: Int)
    /// `TSO [n]` → `OK first=T count=n`: timestamps `T ..< T+n`, each larger than any handed out before.
    case timestamps(count: Int)
    /// `PUT_STORE id=ID address=ADDR` → `OK`: registers a store or changes its address.
    case putStore(StoreDescriptor)
    /// `STORE_HEARTBEAT id=ID [regions=N leaders=N capacity=B available=B]` → `OK`.
    case storeHeartbeat(StoreHeartbeat)
    /// `REGION_HEARTBEAT <region fields> leader=PEER [size=B keys=N]` → `OK`, or `OK operator=... ` naming a
    /// change the leader should propose.
    case regionHeartbeat(RegionHeartbeat)
    /// `REGION_BY_KEY key` → `OK <region fields> leader=PEER`, or `ERR REGION_NOT_FOUND`.
    case regionByKey([UInt8])
    /// `REGION_BY_ID id` → `OK <region fields> leader=PEER`, or `ERR REGION_NOT_FOUND`.
    case regionByID(UInt64)
    /// `REGIONS [start] [LIMIT n]` → a `ROW <region fields> leader=PEER` line per region from `start` on, `END`.
    case regions(start: [UInt8], limit: Int)
    /// `STORES` → a `ROW id= address= state= ...` line per store, `END`.
    case stores
    /// `STORE id` → `OK id= address= state= ...`, or `ERR STORE_NOT_FOUND`.
    case store(UInt64)
    /// `TRANSFER_LEADER region=R store=S` → `OK`: queues an operator moving the region's leadership to its
    /// peer on store S; `ERR CONFLICT` while another operator runs on the region.
    case transferLeader(regionID: UInt64, storeID: UInt64)
    /// `OPERATORS` → a `ROW region= kind= peer= store= reason= age_ms=` line per running operator, `END`.
    case operators
    /// `REMOVE_STORE id=S` → `OK`: drains store S (its replicas move to other stores, it gets no new ones);
    /// its state is `offline` until it holds no replica, then `tombstone`.
    case removeStore(UInt64)
    /// `SCHEDULERS` → `ROW name=N enabled=0|1 running=K`... `END`: the balance schedulers.
    case schedulers
    /// `ADD_SCHEDULER name=N` → `OK`: turns a balance scheduler on (durably).
    case addScheduler(String)
    /// `REMOVE_SCHEDULER name=N` → `OK`: turns a balance scheduler off (durably); its running operators finish.
    case removeScheduler(String)
    /// `GC_SAFE_POINT` → `OK safe_point=T`: MVCC versions older than the newest one at or below T may be
    /// removed (readers must not read below it). With an automatic lifetime it is first raised to the time that
    /// long ago.
    case gcSafePoint
    /// `SET_GC_SAFE_POINT ts` → `OK safe_point=T`: raises the safe point to `ts` (never lowers it; refuses a
    /// timestamp not handed out yet).
    case setGCSafePoint(UInt64)

    /// The most ids or timestamps one request may ask for.
    public static let maxBatch = 1 << 16
    /// The default `LIMIT` of `REGIONS`.
    public static let defaultRegionLimit = 1000
}

/// A store (one kvnode) as the scheduler knows it: its id and the address its peers and clients dial.
public struct StoreDescriptor: Sendable, Hashable {
    /// The store id, unique in the cluster.
    public var id: UInt64
    /// `HOST:PORT` or a Unix socket path.
    public var address: String

    /// Creates a descriptor.
    public init(id: UInt64, address: String) {
        self.id = id
        self.address = address
    }
}

/// A store's periodic report of itself.
public struct StoreHeartbeat: Sendable, Hashable {
    /// The reporting store.
    public var storeID: UInt64
    /// Region peers it holds.
    public var regionCount: UInt64
    /// Of those, how many lead.
    public var leaderCount: UInt64
    /// Bytes its data directory may use (0 when unknown).
    public var capacity: UInt64
    /// Bytes still free there (0 when unknown).
    public var available: UInt64

    /// Creates a heartbeat.
    public init(storeID: UInt64, regionCount: UInt64 = 0, leaderCount: UInt64 = 0, capacity: UInt64 = 0, available: UInt64 = 0) {
        self.storeID = storeID
        self.regionCount = regionCount
        self.leaderCount = leaderCount
        self.capacity = capacity
        self.available = available
    }
}

/// A region leader's periodic report: the region as the leader sees it, and its size.
public struct RegionHeartbeat: Sendable, Hashable {
    /// Range, epoch and peers.
    public var region: Region
    /// The leader's peer id.
    public var leaderPeerID: UInt64
    /// Approximate bytes of data in the region.
    public var approximateSize: UInt64
    /// Approximate number of keys.
    public var approximateKeys: UInt64

    /// Creates a heartbeat.
    public init(region: Region, leaderPeerID: UInt64, approximateSize: UInt64 = 0, approximateKeys: UInt64 = 0) {
        self.region = region
        self.leaderPeerID = leaderPeerID
        self.approximateSize = approximateSize
        self.approximateKeys = approximateKeys
    }
}

// MARK: - Parsing

extension SchedulerRequest {
    /// Parses the arguments of a scheduler verb; `nil` when `verb` is not one.
    ///
    /// - Parameters:
    ///   - verb: The upper-cased verb.
    ///   - arguments: The tokens after it.
    /// - Throws: ``ProtocolError`` for bad arity or arguments.
    static func parse(verb: String, _ arguments: ArraySlice<ArraySlice<UInt8>>) throws(ProtocolError) -> SchedulerRequest? {
        switch verb {
        case "CLUSTER":
            try expectCount(arguments, 0, usage: "CLUSTER")
            return .clusterInfo
        case "BOOTSTRAP":
            let fields = try ProtocolFields(parsing: arguments)
            return .bootstrap(
                store: StoreDescriptor(id: try nonZero(fields, "store"), address: try address(fields)),
                regionID: try nonZero(fields, "region"), peerID: try nonZero(fields, "peer"))
        case "ALLOC_ID":
            return .allocateIDs(count: try batchCount(arguments, usage: "ALLOC_ID [count]"))
        case "TSO":
            return .timestamps(count: try batchCount(arguments, usage: "TSO [count]"))
        case "PUT_STORE":
            let fields = try ProtocolFields(parsing: arguments)
            return .putStore(StoreDescriptor(id: try nonZero(fields, "id"), address: try address(fields)))
        case "STORE_HEARTBEAT":
            let fields = try ProtocolFields(parsing: arguments)
            return .storeHeartbeat(StoreHeartbeat(
                storeID: try nonZero(fields, "id"), regionCount: try fields.number("regions", default: 0),
                leaderCount: try fields.number("leaders", default: 0), capacity: try fields.number("capacity", default: 0),
                available: try fields.number("available", default: 0)))
        case "REGION_HEARTBEAT":
            let fields = try ProtocolFields(parsing: arguments)
            return .regionHeartbeat(RegionHeartbeat(
                region: try Region(fields: fields), leaderPeerID: try fields.number("leader"),
                approximateSize: try fields.number("size", default: 0), approximateKeys: try fields.number("keys", default: 0)))
        case "REGION_BY_KEY":
            try expectCount(arguments, 1, usage: "REGION_BY_KEY key")
            return .regionByKey(try ProtocolToken.decode(arguments[arguments.startIndex]))
        case "REGION_BY_ID":
            try expectCount(arguments, 1, usage: "REGION_BY_ID id")
            return .regionByID(UInt64(try ProtocolToken.decodeNumber(arguments[arguments.startIndex], name: "id")))
        case "REGIONS":
            let usage = "usage: REGIONS [start] [LIMIT n]"
            var start: [UInt8] = []
            var limit = defaultRegionLimit
            var rest = arguments
            // `REGIONS`, `REGIONS start`, `REGIONS LIMIT n` or `REGIONS start LIMIT n`: with one or three
            // arguments the first is the start key (even if spelled LIMIT).
            if rest.count == 1 || rest.count == 3 {
                start = try ProtocolToken.decode(rest[rest.startIndex])
                rest = rest.dropFirst()
            }
            if !rest.isEmpty {
                guard rest.count == 2, String(decoding: rest[rest.startIndex], as: UTF8.self).uppercased() == "LIMIT" else {
                    throw ProtocolError(.wrongArity, usage)
                }
                limit = try ProtocolToken.decodeNumber(rest[rest.startIndex + 1], name: "LIMIT")
                guard limit >= 1 && limit <= ProtocolLimits.maxScanLimit else {
                    throw ProtocolError(.badArgument, "LIMIT must be 1...\(ProtocolLimits.maxScanLimit)")
                }
            }
            return .regions(start: start, limit: limit)
        case "STORES":
            try expectCount(arguments, 0, usage: "STORES")
            return .stores
        case "STORE":
            try expectCount(arguments, 1, usage: "STORE id")
            return .store(UInt64(try ProtocolToken.decodeNumber(arguments[arguments.startIndex], name: "id")))
        case "TRANSFER_LEADER":
            let fields = try ProtocolFields(parsing: arguments)
            return .transferLeader(regionID: try nonZero(fields, "region"), storeID: try nonZero(fields, "store"))
        case "OPERATORS":
            try expectCount(arguments, 0, usage: "OPERATORS")
            return .operators
        case "REMOVE_STORE":
            return .removeStore(try nonZero(try ProtocolFields(parsing: arguments), "id"))
        case "SCHEDULERS":
            try expectCount(arguments, 0, usage: "SCHEDULERS")
            return .schedulers
        case "ADD_SCHEDULER":
            return .addScheduler(try ProtocolFields(parsing: arguments).text("name"))
        case "REMOVE_SCHEDULER":
            return .removeScheduler(try ProtocolFields(parsing: arguments).text("name"))
        case "GC_SAFE_POINT":
            try expectCount(arguments, 0, usage: "GC_SAFE_POINT")
            return .gcSafePoint
        case "SET_GC_SAFE_POINT":
            try expectCount(arguments, 1, usage: "SET_GC_SAFE_POINT ts")
            let token = arguments[arguments.startIndex]
            guard token.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let ts = UInt64(String(decoding: token, as: UTF8.self)) else {
                throw ProtocolError(.badArgument, "the safe point must be a timestamp (an unsigned decimal number)")
            }
            return .setGCSafePoint(ts)
        default:
            return nil
        }
    }

    private static func expectCount(_ arguments: ArraySlice<ArraySlice<UInt8>>, _ count: Int, usage: String) throws(ProtocolError) {
        guard arguments.count == count else {
            throw ProtocolError(.wrongArity, "usage: \(usage) (got \(arguments.count) argument\(arguments.count == 1 ? "" : "s"))")
        }
    }

    private static func batchCount(_ arguments: ArraySlice<ArraySlice<UInt8>>, usage: String) throws(ProtocolError) -> Int {
        guard arguments.count <= 1 else { throw ProtocolError(.wrongArity, "usage: \(usage)") }
        guard let token = arguments.first else { return 1 }
        let count = try ProtocolToken.decodeNumber(token, name: "count")
        guard count >= 1 && count <= maxBatch else { throw ProtocolError(.badArgument, "count must be 1...\(maxBatch)") }
        return count
    }

    private static func nonZero(_ fields: ProtocolFields, _ name: String) throws(ProtocolError) -> UInt64 {
        let value = try fields.number(name)
        guard value > 0 else { throw ProtocolError(.badArgument, "\(name)= must not be 0") }
        return value
    }

    private static func address(_ fields: ProtocolFields) throws(ProtocolError) -> String {
        let address = try fields.text("address")
        guard !address.isEmpty, address.utf8.count <= 256 else {
            throw ProtocolError(.badArgument, "address= must be HOST:PORT or a socket path of at most 256 bytes")
        }
        return address
    }
}

// MARK: - Encoding

extension SchedulerRequest {
    /// The request's verb, for messages.
    public var verb: String { words[0] }

    /// The verb and argument words of the request line (without line feed).
    var words: [String] {
        switch self {
        case .clusterInfo:
            return ["CLUSTER"]
        case .bootstrap(let store, let regionID, let peerID):
            var fields = ProtocolFields()
            fields.append("store", store.id)
            fields.append("address", store.address)
            fields.append("region", regionID)
            fields.append("peer", peerID)
            return ["BOOTSTRAP"] + fields.words
        case .allocateIDs(let count):
            return ["ALLOC_ID", String(count)]
        case .timestamps(let count):
            return ["TSO", String(count)]
        case .putStore(let store):
            var fields = ProtocolFields()
            fields.append("id", store.id)
            fields.append("address", store.address)
            return ["PUT_STORE"] + fields.words
        case .storeHeartbeat(let beat):
            var fields = ProtocolFields()
            fields.append("id", beat.storeID)
            fields.append("regions", beat.regionCount)
            fields.append("leaders", beat.leaderCount)
            fields.append("capacity", beat.capacity)
            fields.append("available", beat.available)
            return ["STORE_HEARTBEAT"] + fields.words
        case .regionHeartbeat(let beat):
            var fields = beat.region.fields
            fields.append("leader", beat.leaderPeerID)
            fields.append("size", beat.approximateSize)
            fields.append("keys", beat.approximateKeys)
            return ["REGION_HEARTBEAT"] + fields.words
        case .regionByKey(let key):
            return ["REGION_BY_KEY", ProtocolToken.encodeString(key)]
        case .regionByID(let id):
            return ["REGION_BY_ID", String(id)]
        case .regions(let start, let limit):
            return ["REGIONS", ProtocolToken.encodeString(start), "LIMIT", String(limit)]
        case .stores:
            return ["STORES"]
        case .store(let id):
            return ["STORE", String(id)]
        case .transferLeader(let region, let store):
            return ["TRANSFER_LEADER", "region=\(region)", "store=\(store)"]
        case .operators:
            return ["OPERATORS"]
        case .removeStore(let id):
            return ["REMOVE_STORE", "id=\(id)"]
        case .schedulers:
            return ["SCHEDULERS"]
        case .addScheduler(let name):
            var fields = ProtocolFields()
            fields.append("name", name)
            return ["ADD_SCHEDULER"] + fields.words
        case .removeScheduler(let name):
            var fields = ProtocolFields()
            fields.append("name", name)
            return ["REMOVE_SCHEDULER"] + fields.words
        case .gcSafePoint:
            return ["GC_SAFE_POINT"]
        case .setGCSafePoint(let ts):
            return ["SET_GC_SAFE_POINT", String(ts)]
        }
    }
}
