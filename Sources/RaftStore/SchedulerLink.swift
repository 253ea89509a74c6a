import KVClient
import KVProtocol
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A storage node's connection to `kvsched`: joining the cluster (ids, bootstrap, registration), store
/// addresses for the transport, and the heartbeats whose answers carry the scheduler's operators.
///
/// Every call reconnects once if the connection broke; a scheduler that is down only delays heartbeats and
/// address lookups (cached addresses keep working), it never stops the node from serving.
public final class SchedulerLink: Sendable {
    /// The scheduler's address.
    public let address: NodeAddress
    /// The address other nodes and clients reach this node at.
    public let advertiseAddress: String
    private let logger: Logger
    private let client = Mutex<SchedulerClient?>(nil)
    /// One request at a time on the connection: heartbeats and address lookups come from different threads.
    private let callLock = NIOLock()
    private let addresses = Mutex<[UInt64: String]>([:])
    private let stopping = Atomic<Bool>(false)
    /// Set when the store's regions changed shape: the next heartbeat goes at once.
    private let heartbeatSoon = Atomic<Bool>(false)
    private let heartbeatThread = NIOThreadPool(numberOfThreads: 1)

    /// Creates a link; nothing is sent until it is used.
    public init(address: NodeAddress, advertiseAddress: String, logger: Logger) {
        self.address = address
        self.advertiseAddress = advertiseAddress
        self.logger = logger
    }

    /// A failure to join the cluster, with the reason for the operator.
    public struct JoinError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
        /// Whether it was only that the scheduler could not be reached in time.
        public var schedulerUnreachable = false
    }

    /// Runs `body` with a connected client, reconnecting once after a failure.
    func call<T>(_ body: (SchedulerClient) throws(KVClientError) -> T) throws(KVClientError) -> T {
        callLock.lock()
        defer { callLock.unlock() }
        for attempt in 0..<2 {
            let existing = client.withLock { $0 }
            let connected: SchedulerClient
            if let existing {
                connected = existing
            } else {
                connected = try SchedulerClient(address: address, timeout: 5)
                client.withLock { $0 = connected }
            }
            do {
                return try body(connected)
            } catch {
                if error.isConnectionFailure && attempt == 0 {
                    client.withLock { $0 = nil }
                    continue
                }
                throw error
            }
        }
        throw KVClientError(.unreachable, "scheduler at \(address) is unreachable")
    }

    /// Waits for the scheduler (up to `timeout` seconds), then allocates this store's id; if the cluster is
    /// new, also the first region (all keys, one peer here), which ``confirmRegistration(of:)`` reports once
    /// it is on disk.
    ///
    /// - Throws: ``JoinError`` when the scheduler cannot be reached in time or refuses.
    public func joinCluster(timeout: Double = 60) throws -> (StoreIdentity, [Region]) {
        let deadline = monotonicSeconds() + timeout
        while true {
            do {
                return try call { (scheduler) throws(KVClientError) -> (StoreIdentity, [Region]) in
                    let info = try scheduler.clusterInfo()
                    let storeID = try scheduler.allocateIDs(count: 1)
                    let identity = StoreIdentity(clusterID: info.clusterID, storeID: storeID)
                    if info.bootstrapped {
                        _ = try scheduler.call(.putStore(StoreDescriptor(id: storeID, address: advertiseAddress)))
                        return (identity, [])
                    }
                    let first = try scheduler.allocateIDs(count: 2)
                    return (identity, [Region(id: first, peers: [RegionPeer(id: first + 1, storeID: storeID)])])
                }
            } catch {
                guard error.isConnectionFailure && monotonicSeconds() < deadline else {
                    throw JoinError(description: "cannot join the cluster through the scheduler at \(address): \(error.message)")
                }
                usleep(200_000)
            }
        }
    }

    /// After the store opened: checks it belongs to this scheduler's cluster, registers its (possibly new)
    /// address, and bootstraps the cluster with the store's first region if that has not reached the
    /// scheduler yet.
    ///
    /// - Throws: ``JoinError`` for another cluster's directory, an address taken by another store, or a
    ///   cluster bootstrapped by another node meanwhile.
    public func confirmRegistration(of store: RaftStore, timeout: Double = 60) throws {
        let identity = store.storeIdentity
        let deadline = monotonicSeconds() + timeout
        while true {
            do {
                try call { (scheduler) throws(KVClientError) in
                    let info = try scheduler.clusterInfo()
                    guard info.clusterID == identity.clusterID else {
                        throw KVClientError(
                            .badResponse,
                            "\(store.directory) belongs to cluster \(identity.clusterID), but the scheduler runs cluster \(info.clusterID)")
                    }
                    let descriptor = StoreDescriptor(id: identity.storeID, address: advertiseAddress)
                    if info.bootstrapped {
                        if let region = store.bootstrapRegion {
                            // This store bootstrapped a region of its own: it must be the cluster's first region,
                            // else another node won the bootstrap and this region must not serve anything.
                            let known = Result { () throws(KVClientError) in try scheduler.region(id: region.id) }
                            guard case .success(let record) = known, record.region.peers.contains(region.peers[0]) else {
                                throw KVClientError(
                                    .badResponse,
                                    "another node bootstrapped the cluster first; this directory's region is not the "
                                        + "cluster's: remove \(store.directory) and start again")
                            }
                        }
                        _ = try scheduler.call(.putStore(descriptor))
                        return
                    }
                    guard let region = store.bootstrapRegion else {
                        throw KVClientError(.badResponse, "the cluster is not bootstrapped and this store holds no first region")
                    }
                    _ = try scheduler.call(.bootstrap(store: descriptor, regionID: region.id, peerID: region.peers[0].id))
                }
                addresses.withLock { $0[identity.storeID] = advertiseAddress }
                return
            } catch {
                switch error.kind {
                case _ where error.isConnectionFailure && monotonicSeconds() < deadline:
                    usleep(200_000)
                case .server(.alreadyBootstrapped):
                    throw JoinError(
                        description: "another node bootstrapped the cluster first; this directory's region is not the "
                            + "cluster's: remove \(store.directory) and start again")
                default:
                    throw JoinError(
                        description: "cannot register with the scheduler at \(address): \(error.message)",
                        schedulerUnreachable: error.isConnectionFailure)
                }
            }
        }
    }

    /// Allocates `count` consecutive ids (blocking) and returns the first.
    ///
    /// - Throws: ``KVClientError`` when the scheduler cannot be reached or refuses.
    public func allocateIDs(count: Int) throws(KVClientError) -> UInt64 {
        try call { (scheduler) throws(KVClientError) in try scheduler.allocateIDs(count: count) }
    }

    /// The cluster's GC safe point (`GC_SAFE_POINT`, blocking).
    ///
    /// - Throws: ``KVClientError`` when the scheduler cannot be reached or refuses.
    public func gcSafePoint() throws(KVClientError) -> UInt64 {
        try call { (scheduler) throws(KVClientError) in try scheduler.gcSafePoint() }
    }

    /// Makes the next heartbeats leave now rather than at the next interval (after a split, say).
    public func heartbeatNow() {
        heartbeatSoon.store(true, ordering: .relaxed)
    }

    /// The address of a store: cached, else asked of the scheduler (blocking); nil while unknown.
    public func resolve(_ storeID: UInt64) -> String? {
        if let known = cachedAddress(storeID) { return known }
        let found = try? call { (scheduler) throws(KVClientError) -> String? in
            guard case .ok(let words) = try scheduler.call(.store(storeID)),
                let fields = try? ProtocolFields(parsing: words), let address = try? fields.text("address")
            else { return nil }
            return address
        }
        guard let address = found else { return nil }
        addresses.withLock { $0[storeID] = address }
        return address
    }

    /// Remembers where a store is, as its own Raft messages say (a restarted store while the scheduler is down).
    public func learn(_ storeID: UInt64, address: String) {
        addresses.withLock { known in
            if known[storeID] != address { known[storeID] = address }
        }
    }

    /// The address of a store if already known.
    public func cachedAddress(_ storeID: UInt64) -> String? {
        addresses.withLock { $0[storeID] }
    }

    /// Sends store and region heartbeats every `interval` seconds from a thread of its own, and hands the
    /// operators in the answers to the store.
    ///
    /// - Parameter registerFirst: Register the store first (``confirmRegistration(of:timeout:)``), retrying
    ///   until the scheduler answers: for a node restarted while the scheduler was down, which serves its
    ///   regions meanwhile.
    public func startHeartbeats(of store: RaftStore, interval: Double, registerFirst: Bool = false) {
        heartbeatThread.start()
        heartbeatThread.submit { [self] _ in
            nameCurrentThread("sched-heartbeat")
            var registered = !registerFirst
            while !stopping.load(ordering: .relaxed) {
                if !registered {
                    do {
                        try confirmRegistration(of: store, timeout: 0)
                        registered = true
                        logger.notice("registered with the scheduler at \(address)")
                    } catch let error as JoinError where !error.schedulerUnreachable {
                        logger.error("\(error.description)")
                    } catch {}
                }
                if registered { heartbeat(store) }
                var slept = 0.0
                while slept < interval && !stopping.load(ordering: .relaxed)
                    && !heartbeatSoon.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged
                {
                    usleep(50_000)
                    slept += 0.05
                }
            }
        }
    }

    /// Stops the heartbeats.
    public func stop() {
        stopping.store(true, ordering: .relaxed)
        try? heartbeatThread.syncShutdownGracefully()
        client.withLock { $0 = nil }
    }

    private func heartbeat(_ store: RaftStore) {
        // In key order: after a split the narrowed region (same id) reaches the scheduler before the new one.
        let reports = store.leaderReports.sorted { $0.region.startKey.lexicographicallyPrecedes($1.region.startKey) }
        let identity = store.storeIdentity
        let outcome = Result { () throws(KVClientError) in
            try call { (scheduler) throws(KVClientError) in
                let disk = store.diskSpace
                _ = try scheduler.call(.storeHeartbeat(StoreHeartbeat(
                    storeID: identity.storeID, regionCount: UInt64(store.regionCount), leaderCount: UInt64(reports.count),
                    capacity: disk.capacity, available: disk.available)))
                for report in reports {
                    let result = Result { () throws(KVClientError) -> Response in
                        try scheduler.call(.regionHeartbeat(RegionHeartbeat(
                            region: report.region, leaderPeerID: report.leaderPeerID, approximateSize: report.approximateSize,
                            approximateKeys: report.approximateKeys)))
                    }
                    let answer: Response
                    switch result {
                    case .success(let response):
                        answer = response
                    case .failure(let error) where error.kind == .server(.epochNotMatch):
                        continue  // the scheduler knows a newer shape; our next heartbeat will carry it
                    case .failure(let error):
                        throw error
                    }
                    guard case .ok(let words) = answer, !words.isEmpty, let fields = try? ProtocolFields(parsing: words),
                        let kindText = try? fields.text("operator"), let kind = RegionOperator.Kind(rawValue: kindText),
                        let peerID = try? fields.number("peer"), let storeID = try? fields.number("store")
                    else { continue }
                    store.execute(RegionOperator(kind: kind, regionID: report.region.id, peer: RegionPeer(id: peerID, storeID: storeID)))
                }
            }
        }
        if case .failure(let error) = outcome {
            logger.debug("heartbeat to the scheduler at \(address) failed: \(error.message)")
        }
    }
}
