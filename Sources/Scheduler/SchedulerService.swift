import KVProtocol
import KVServer
import Logging
import Txn
import Synchronization

/// kvsched's core behind its network front end: cluster bootstrap, ids, the timestamp oracle, store and
/// region heartbeats, the region map, and the replica checker's operators.
///
/// Every request is answered under one lock. Whatever an answer promises (a bootstrap, a store, a region's
/// new shape, ids, timestamps) is durable in the scheduler's LMDB environment before the answer leaves;
/// leaders, sizes and heartbeats are kept in memory only and come back with the next heartbeats after a
/// restart.
public final class SchedulerService: NodeService {
    public let serverStatistics = ServerStatistics()
    /// The options in force.
    public let options: SchedulerOptions
    let storage: SchedulerStorage
    let clock: SchedulerClock
    let logger: Logger
    private let startedAt: UInt64
    private let state: Mutex<ClusterState>

    /// What the lock guards.
    struct ClusterState {
        var clusterID: UInt64
        var bootstrapped: Bool
        var oracle: TimestampOracle
        var ids: IDAllocator
        var stores: [UInt64: StoreState]
        var regions: RegionMap { didSet { cachedLoad = nil } }
        var operators: [UInt64: SchedulingOperator] { didSet { cachedLoad = nil } }
        /// Store scores and leader counts, computed from `regions` and `operators` when first needed after
        /// either changed: an idle cluster's heartbeats cost O(1) each, not O(regions).
        var cachedLoad: BalanceScheduler.Load?
        /// The balance schedulers that run.
        var enabledSchedulers: Set<BalanceScheduler.Name>
        /// The MVCC garbage collection safe point (durable).
        var gcSafePoint: UInt64 = 0
        var stopped = false
    }

    /// Opens (or creates) the scheduler's state in `storage`.
    ///
    /// - Parameters:
    ///   - storage: The data directory, open.
    ///   - options: Validated options.
    ///   - clock: Where time comes from.
    ///   - logger: Where bootstrap, new stores and operators are logged.
    /// - Throws: ``SchedulerError`` when the persisted state cannot be read or the first write fails.
    public init(
        storage: SchedulerStorage, options: SchedulerOptions = SchedulerOptions(), clock: SchedulerClock = .system,
        logger: Logger = Logger(label: "kvsched")
    ) throws(SchedulerError) {
        try options.validate()
        self.storage = storage
        self.options = options
        self.clock = clock
        self.logger = logger
        let contents = try storage.load()
        var clusterID = contents.clusterID
        if clusterID == 0 {
            // Wall-clock seconds in the high bits and random low bits, like etcd's and PD's cluster ids: two
            // clusters started by the same script still differ.
            clusterID = (clock.wallMilliseconds() / 1000) << 32 | UInt64(UInt32.random(in: 1...UInt32.max))
            try storage.save([.cluster(id: clusterID, bootstrapped: false)])
        }
        let now = clock.monotonicMilliseconds()
        startedAt = now
        var stores: [UInt64: StoreState] = [:]
        for store in contents.stores {
            stores[store.id] = StoreState(
                isRemoving: contents.removingStores.contains(store.id), descriptor: store, lastHeartbeat: nil, lastSeen: now)
        }
        var regions = RegionMap()
        for region in contents.regions {
            regions.place(RegionMap.Entry(region: region, leaderPeerID: 0, approximateSize: 0, approximateKeys: 0))
        }
        state = Mutex(ClusterState(
            clusterID: clusterID, bootstrapped: contents.bootstrapped,
            oracle: TimestampOracle(persistedLimit: contents.timestampLimit, window: options.timestampWindow),
            ids: IDAllocator(persistedLimit: contents.idLimit, batch: options.idBatch),
            stores: stores, regions: regions, operators: [:], cachedLoad: nil,
            enabledSchedulers: Set(BalanceScheduler.Name.allCases.filter { contents.schedulers[$0.rawValue] ?? true }),
            gcSafePoint: contents.gcSafePoint))
    }

    /// The cluster id.
    public var clusterID: UInt64 { state.withLock { $0.clusterID } }

    public func read(_ requests: [Request]) -> [Response] {
        requests.map(answer)
    }

    public func submit(_ submission: WriteSubmission) {
        submission.complete(read(submission.requests))
    }

    public func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Answers one request.
    func answer(_ request: Request) -> Response {
        switch request {
        case .ping:
            return .pong
        case .hello:
            let id = clusterID
            return .ok(["kvsched", ToolkitVersion.release, "proto=\(ToolkitVersion.protocolRevision)", "cluster_id=\(id)"])
        case .quit:
            return .ok(["bye"])
        case .stats:
            return stats()
        case .raft, .fault:
            return .error(ProtocolError(.notSupported, "that is a kvnode command; this is kvsched"))
        case .get, .put, .delete, .scan, .split, .txn, .inRegion:
            return .error(ProtocolError(
                .notSupported, "kvsched holds no data: send reads and writes to a kvnode (kvctl --sched finds it)"))
        case .scheduler(let request):
            return state.withLock { state -> Response in
                guard !state.stopped else { return .error(ProtocolError(.shuttingDown, "kvsched is stopping")) }
                let result = Result { () throws(SchedulerError) -> Response in try answer(request, state: &state) }
                switch result {
                case .success(let response):
                    return response
                case .failure(let error):
                    logger.error("storage failure: \(error.message)")
                    return .error(ProtocolError(.storage, error.message))
                }
            }
        }
    }

    private func stats() -> Response {
        let now = clock.monotonicMilliseconds()
        return state.withLock { state in
            let up = state.stores.values.filter { $0.health(at: now, options: options) == .up }.count
            return .ok([
                "cluster_id=\(state.clusterID)", "bootstrapped=\(state.bootstrapped ? 1 : 0)",
                "stores=\(state.stores.count)", "stores_up=\(up)", "regions=\(state.regions.count)",
                "operators=\(state.operators.count)", "tso_limit_ms=\(state.oracle.persistedLimit)",
                "id_limit=\(state.ids.persistedLimit)",
                "requests=\(serverStatistics.requests.load(ordering: .relaxed))",
                "connections=\(serverStatistics.connections.load(ordering: .relaxed))",
                "uptime_s=\((now - startedAt) / 1000)",
            ])
        }
    }
}

// MARK: - Sendable

// All mutable state is behind `state`'s lock; the rest is immutable.
extension SchedulerService: @unchecked Sendable {}
