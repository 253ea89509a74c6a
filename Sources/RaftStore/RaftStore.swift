import Dispatch
import KVEngine
import KVProtocol
import KVServer
import LogEngine
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import Raft
import Synchronization
import Txn

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The raftstore of one node: its region peers, each a Raft group member whose log lives in the node's
/// ``LogEngine`` and whose state machine is the node's LMDB environment.
///
/// One store loop thread owns every peer. A round takes the queued client writes, proposes them, writes
/// every peer's `Ready` to the log with **one** `fdatasync`, applies committed entries, and only then answers.
/// Applied writes become visible at once through layers of unflushed changes; a background flush moves them
/// into LMDB (with each region's applied index, atomically) every ``RaftStoreOptions/flushMilliseconds``, so
/// the LMDB commit — two device flushes — is never on a write's critical path. After a crash the log is
/// replayed from the applied index LMDB holds. docs/storage.md gives the crash reasoning.
///
/// A standalone node is one region (all keys) with one voter: the same path, with nothing to replicate.
///
/// ```swift
/// let store = try RaftStore(directory: "/var/lib/kv", identity: ["kvnode", "1.0"])
/// let server = NodeServer(store: store, configuration: .init(tcp: ("127.0.0.1", 20160)))
/// try server.start()
/// ```
public final class RaftStore {
    /// The data directory: LMDB's files, and the log under `log/`.
    public let directory: String
    /// The options it runs with.
    public let options: RaftStoreOptions
    /// The state machine.
    public let environment: Environment
    /// The Raft log of every region.
    public let log: LogEngine
    /// Whose data this is.
    public let storeIdentity: StoreIdentity
    /// Counters of the store.
    public let statistics = RaftStoreStatistics()
    /// Counters the network front end keeps.
    public let serverStatistics = ServerStatistics()
    /// What `HELLO` answers after `OK`.
    public let helloWords: [String]
    /// Whether start-up adopted a data directory written by a kvnode that had no Raft log.
    public let migratedFromUnreplicatedFormat: Bool

    let logger: Logger
    private let onFailure: @Sendable (RaftStoreError) -> Void
    let startTime = monotonicSeconds()

    // MARK: Shared with other threads

    /// Guards `inbox`; set to true to wake the loop thread.
    let wakeUp = ConditionLock(value: false)
    /// Guards the loop-owned state below: whoever holds it runs the store loop's turn.
    let storeLock = Mutex<Void>(())
    /// Guarded by `wakeUp`.
    var inbox = Inbox()
    /// The unflushed changes readers see, replaced after each round.
    let published = Mutex(UnflushedChanges())
    /// Counts flushes begun. A reader that copied the layers before a flush began and opened its LMDB snapshot
    /// after that flush committed could see newer LMDB data under older layers; it checks this and retries.
    let flushesBegun = Atomic<UInt64>(0)
    private let loopThread = NIOThreadPool(numberOfThreads: 1)
    let flushQueue = DispatchQueue(label: "kvstore.raftstore.flush")
    let loopFinished = ConditionLock(value: false)
    private let stopState = Mutex((stopped: false, closed: false))
    /// Set as the init's last step. An init that throws after every property is set still runs the deinit
    /// (and so ``stop()``), which must not wait for a loop that never started.
    private var loopStarted = false

    // MARK: Owned by the store loop (guarded by `storeLock`)

    var peers: [UInt64: Peer] = [:]
    /// The lowest region id here, whose applied index `STATS` reports.
    var firstRegionID: UInt64 = 0
    var working = UnflushedChanges()
    /// Changes of the round being applied; `nil` values are deletions.
    var roundChanges: [ByteKey: [UInt8]?] = [:]
    /// Submissions of reads only, waiting until their region applied `index` (what their connection wrote
    /// before them).
    var waitingReads: [(index: UInt64, regionID: UInt64, submission: SubmissionInFlight)] = []
    /// Submissions to answer once the round's changes are published.
    var completions: [SubmissionInFlight] = []
    var flush: FlushJob?
    var lastFlushStart = monotonicSeconds()
    var flushRetryAt: Double?
    /// Set when a flush failed while stopping: the writes stay in the log, to be replayed at the next start.
    var flushAbandoned = false
    /// Per region, the commit index found at start: entries up to it are replays.
    var replayThrough: [UInt64: UInt64] = [:]
    var failure: RaftStoreError?

    // MARK: Cluster mode

    /// How this store takes part in a cluster; nil for a standalone node.
    let cluster: ClusterConfiguration?
    /// Sends Raft messages to other stores (cluster mode).
    let transport: RaftTransport?
    /// Batches of Raft messages being received in chunks, per sending store. Guarded by its lock.
    let incomingChunks = Mutex<[UInt64: (next: UInt64, bytes: [UInt8], connection: UInt64)]>([:])
    /// Read-only submissions waiting for their ReadIndex, by request context. Loop-owned.
    var pendingReadIndex: [UInt64: (regionID: UInt64, submissions: [SubmissionInFlight], deadline: Double)] = [:]
    /// Read-only submissions taken this turn, per region, waiting for the turn's ReadIndex. Loop-owned.
    var readsAwaitingIndex: [UInt64: [SubmissionInFlight]] = [:]
    var nextReadContext: UInt64 = 0
    /// Leaders and regions of this store, refreshed every turn for heartbeats and `STATS`.
    let leadership = Mutex<[LeaderReport]>([])
    /// Regions whose peer here was removed (`conf_ver` of the removal): stale messages must not recreate them.
    /// Loop-owned.
    var tombstones: [UInt64: UInt64] = [:]
    /// Every local region as of the last turn, for threads that check request contexts.
    let regionViews = Mutex<[UInt64: Region]>([:])
    let peerCount = Atomic<Int>(0)
    /// Split work off the loop: asking the scheduler for ids, measuring regions.
    let splitQueue = DispatchQueue(label: "kvstore.raftstore.split")
    /// When the split checker looks at the regions next. Loop-owned.
    var nextSplitCheck = 0.0
    /// Vote requests for regions not (yet) here, per region: a split's new region campaigns on the leader's
    /// store before the other stores applied the split; they replay the request once they have. Loop-owned.
    var deferredVotes: [UInt64: [RaftEnvelope]] = [:]
    /// When each other store was last heard from (any `RAFT` chunk), for hibernating followers. Its own lock.
    let lastHeardFrom = Mutex<[UInt64: Double]>([:])
    /// When the next keep-alives go out. Loop-owned.
    var nextKeepAlive = 0.0
    /// Regions whose Raft node may have a `Ready`: stepped, ticked, proposed to since they were last found
    /// without one. Rounds look at these only, so an idle region costs nothing per round. Loop-owned.
    var activeRegions = Set<UInt64>()
    /// Regions whose log may be compacted further (their `compactTo` rose). Loop-owned.
    var compactionDue = Set<UInt64>()
    /// Hard states that only moved the commit index, not yet written: they go with the next log write
    /// (``writeLog(_:)``), which syncs them too. Loop-owned.
    var deferredHardStates: [UInt64: HardState] = [:]
    /// Set when a region changed shape, membership or was added or removed: the views for other threads
    /// are published again. Loop-owned.
    var regionsChanged = true
    /// A standalone node's timestamp oracle, loaded on first use (a cluster node's timestamps come from kvsched).
    let standaloneOracle = Mutex<TimestampOracle?>(nil)
    /// A standalone node's GC safe point, loaded on first use.
    let standaloneSafePoint = Mutex<UInt64?>(nil)
    /// Garbage collection: when the next pass starts (loop-owned), whether one runs, and the safe point each
    /// region was last collected at (both touched by the pass's thread).
    var nextGC = monotonicSeconds()
    let gcRunning = Atomic<Bool>(false)
    let gcCollected = Mutex<[UInt64: UInt64]>([:])
    let gcQueue = DispatchQueue(label: "kvstore.raftstore.gc")
    /// One-phase commits proposed here and not yet visible to readers: user key → commit timestamp. Taken
    /// before the commit timestamp is, dropped once the round that applied the commit is published; a
    /// transactional read at or after that timestamp must not read the key meanwhile (it would miss a commit
    /// its snapshot includes), so it is answered `SERVER_BUSY` and retried.
    let memoryLocks = Mutex<[ByteKey: UInt64]>([:])
    /// One-phase commits applied this round, whose memory locks go once it is published. Loop-owned.
    var memoryLocksToRelease: [MemoryLock] = []
    /// The highest GC safe point this node has seen: reads and prewrites below it are refused.
    let knownSafePoint = Atomic<UInt64>(0)
    /// Settles an old lock during garbage collection (checks its primary, rolls the lock forward or back);
    /// returns false when the transaction is still alive. Set by whoever runs the node (it needs a client).
    public let lockResolver = Mutex<(@Sendable (LockInfo) throws -> Bool)?>(nil)

    /// Opens (creating, for a standalone node, when new) the store in `directory` and starts its loop.
    ///
    /// A new directory is bootstrapped as store 1 of no cluster, holding region 1 (every key) with itself as
    /// the only voter. A directory written by a kvnode without a Raft log (the format before the log engine)
    /// is adopted: its keys become region 1's state at index 0.
    ///
    /// - Parameters:
    ///   - directory: The data directory.
    ///   - options: Timing, log and flush settings.
    ///   - helloWords: What `HELLO` answers.
    ///   - logger: Where the store reports start-up and failures.
    ///   - onFailure: Called once, from the store loop, if the log or LMDB fails and the store stops taking
    ///     writes (reads go on). A server should exit and let recovery run on restart.
    /// - Throws: ``KVEngine/EngineError`` when LMDB cannot open the directory (locked by another process,
    ///   damaged, truncated); ``LogEngine/LogEngineError`` when the log is damaged outside its interrupted
    ///   tail; ``RaftStoreError`` when LMDB and the log do not fit together (one of them lost data or was
    ///   replaced) or the directory belongs to a cluster.
    public init(
        directory: String, options: RaftStoreOptions = RaftStoreOptions(), cluster: ClusterConfiguration? = nil,
        helloWords: [String] = ["kvnode"], logger: Logger = Logger(label: "raftstore"),
        onFailure: @escaping @Sendable (RaftStoreError) -> Void = { _ in }
    ) throws {
        self.directory = directory
        self.options = options
        self.helloWords = helloWords
        self.logger = logger
        self.onFailure = onFailure
        self.cluster = cluster
        let environment = try Environment(path: directory, options: options.environment)
        let logDirectory = directory + "/log"
        let hadLog = options.logFileSystem.isDirectory(logDirectory)
        let log: LogEngine
        let meta: StoreMeta
        do {
            // kvsched keeps its state in the meta family of an LMDB environment too: refuse it before reading
            // node state from it or creating a log beside it.
            if environment.hasColumnFamily(.meta),
                try environment.read({ txn in try txn.get(MetaKeys.schedulerMarker, in: .meta) }) != nil
            {
                throw RaftStoreError(.incompatible, "\(directory) is a kvsched data directory, not a kvnode one")
            }
            meta = try environment.read { try StoreMeta(reading: $0) }
            if let identity = meta.identity, !hadLog {
                // Refused before the log engine would create an empty log in its place.
                throw RaftStoreError(
                    .corrupt,
                    "\(directory)/data.mdb belongs to store \(identity.storeID) but its log directory \(logDirectory) is "
                        + "missing: writes acknowledged since the last flush to LMDB would be lost; restore the directory")
            }
            log = try LogEngine(directory: logDirectory, options: options.log, fileSystem: options.logFileSystem)
        } catch {
            environment.close()
            throw error
        }
        do {
            let (identity, migrated, regions) = try Self.bootstrapIfNeeded(
                environment: environment, meta: meta, log: log, logDirectory: logDirectory, cluster: cluster)
            self.environment = environment
            self.log = log
            self.storeIdentity = identity
            self.migratedFromUnreplicatedFormat = migrated
            if let cluster {
                transport = RaftTransport(
                    localStoreID: identity.storeID, clusterID: identity.clusterID, localAddress: cluster.advertiseAddress,
                    resolveAddress: cluster.resolveStoreAddress)
            } else {
                transport = nil
            }
            let current = try environment.read { try StoreMeta(reading: $0) }
            tombstones = current.tombstones
            try createPeers(regions: regions, applied: current.applied)
        } catch {
            log.close()
            environment.close()
            throw error
        }
        if let interrupted = log.recovery.interruptedWrite {
            logger.notice(
                "log: cut off an interrupted write", metadata: ["file": "\(interrupted.path)", "offset": "\(interrupted.offset)",
                                                               "bytes": "\(interrupted.discardedBytes)"])
        }
        transport?.setHandlers(
            unreachable: { [weak self] store in self?.post(.unreachable(storeID: store)) },
            snapshot: { [weak self] region, peer, failed in
                self?.post(.snapshotReported(regionID: region, peerID: peer, failed: failed))
            })
        loopStarted = true
        loopThread.start()
        loopThread.submit { [self] _ in
            nameCurrentThread("store-loop")
            runLoop()
        }
    }

    /// Hands an event to the store loop and wakes it.
    func post(_ event: StoreEvent) {
        inboxLocked { $0.events.append(event) }
        wakeLoopIfWorkRemains()
    }

    deinit {
        close()
    }

    /// Where a cluster region's log starts (see ``bootstrapIfNeeded``).
    static let initialLogIndex: UInt64 = 5

    /// Writes the identity and region 1 into a new (or pre-log) directory, or checks that LMDB and the log of
    /// an existing one fit together.
    private static func bootstrapIfNeeded(
        environment: Environment, meta: StoreMeta, log: LogEngine, logDirectory: String, cluster: ClusterConfiguration?
    ) throws -> (StoreIdentity, migrated: Bool, regions: [Region]) {
        let dataFile = environment.path + "/data.mdb"
        if let cluster, meta.identity == nil {
            guard log.regions.isEmpty, try environment.read({ txn in try txn.statistics(of: .default).entries }) == 0 else {
                throw RaftStoreError(
                    .incompatible,
                    "\(environment.path) holds data but no store identity; a cluster node starts from an empty directory")
            }
            if try environment.read({ txn in try txn.get(MetaKeys.schedulerMarker, in: .meta) }) != nil {
                throw RaftStoreError(.incompatible, "\(environment.path) is a kvsched data directory, not a kvnode one")
            }
            let (identity, regions) = try cluster.joinCluster()
            // A bootstrapped region's log starts after an implicit snapshot at `initialLogIndex` (as TiKV's does):
            // a peer created later has no log and so always receives a snapshot first, which carries the
            // membership — the log alone would not tell it who the first voter was.
            var batch = LogBatch()
            for region in regions {
                batch.reset(region: region.id, index: Self.initialLogIndex, term: Self.initialLogIndex)
                batch.setHardState(region: region.id, HardState(term: Self.initialLogIndex, vote: 0, commit: Self.initialLogIndex))
            }
            if !batch.isEmpty { try log.write(batch) }
            try environment.write { txn in
                try txn.put(identity.encoded(), for: MetaKeys.store, in: .meta)
                for region in regions {
                    try txn.put(region.encoded(), for: MetaKeys.region(region.id), in: .meta)
                    try txn.put(MetaKeys.bigEndian(Self.initialLogIndex), for: MetaKeys.applied(region.id), in: .meta)
                }
            }
            return (identity, false, regions)
        }
        guard let identity = meta.identity else {
            if !log.regions.isEmpty {
                throw RaftStoreError(
                    .corrupt,
                    "\(logDirectory) holds the Raft log of regions \(log.regions) but \(dataFile) has no store identity: "
                        + "the LMDB file was replaced or lost; restore it, or start from an empty directory")
            }
            // kvsched keeps its state in the meta family of an LMDB environment too; adopting that as a pre-log
            // node directory would write node state into the scheduler's.
            if try environment.read({ txn in try txn.get(MetaKeys.schedulerMarker, in: .meta) }) != nil {
                throw RaftStoreError(
                    .incompatible, "\(environment.path) is a kvsched data directory, not a kvnode one")
            }
            let migrated = try environment.read { txn in try txn.statistics(of: .default).entries > 0 }
            let identity = StoreIdentity(clusterID: 0, storeID: 1)
            let region = Region(id: 1, peers: [RegionPeer(id: 1, storeID: identity.storeID)])
            try environment.write { txn in
                try txn.put(identity.encoded(), for: MetaKeys.store, in: .meta)
                try txn.put(region.encoded(), for: MetaKeys.region(region.id), in: .meta)
                try txn.put(MetaKeys.bigEndian(0), for: MetaKeys.applied(region.id), in: .meta)
            }
            return (identity, migrated, [region])
        }
        if cluster == nil && identity.clusterID != 0 {
            throw RaftStoreError(
                .incompatible,
                "\(environment.path) belongs to store \(identity.storeID) of cluster \(identity.clusterID); "
                    + "start it as a cluster node (--sched), not standalone")
        }
        if cluster != nil && identity.clusterID == 0 {
            throw RaftStoreError(
                .incompatible, "\(environment.path) is a standalone node's directory; start it with --standalone")
        }
        for region in meta.regions.values.sorted(by: { $0.id < $1.id }) {
            let applied = meta.applied[region.id] ?? 0
            let compacted = log.compactionPoint(of: region.id).index
            let last = log.lastIndex(of: region.id)
            if compacted > applied {
                throw RaftStoreError(
                    .corrupt,
                    "region \(region.id): \(dataFile) has applied entries up to \(applied) but the log starts after "
                        + "\(compacted): the LMDB file lost acknowledged writes (a disk that ignored fsync, or an old copy)")
            }
            if last < applied, let snapshot = meta.snapshots[region.id], snapshot.index == applied {
                // A snapshot was installed into LMDB but the log's reset record did not make it: the log
                // restarts after the snapshot.
                var batch = LogBatch()
                batch.reset(region: region.id, index: snapshot.index, term: snapshot.term)
                try log.write(batch)
            } else if last < applied {
                throw RaftStoreError(
                    .corrupt,
                    "region \(region.id): the log ends at \(last) but \(dataFile) has applied up to \(applied): the log "
                        + "lost entries (a disk that ignored fsync, or an old copy of \(logDirectory))")
            }
        }
        return (identity, false, Array(meta.regions.values))
    }

    /// Creates a Raft node for each region that has a peer on this store.
    private func createPeers(regions: [Region], applied: [UInt64: UInt64]) throws {
        for region in regions.sorted(by: { $0.id < $1.id }) where region.peer(onStore: storeIdentity.storeID) != nil {
            let appliedIndex = applied[region.id] ?? 0
            let peer = try startPeer(for: region, applied: appliedIndex)
            if region.peers.count == 1 && region.peers[0].id == peer.peerID {
                peer.node.campaign()  // the only voter: no need to wait for a timeout
            }
            replayThrough[region.id] = log.hardState(of: region.id)?.commit ?? 0
            if region.id == firstRegionID {
                statistics.appliedIndex.store(appliedIndex, ordering: .relaxed)
                statistics.durableAppliedIndex.store(appliedIndex, ordering: .relaxed)
            }
        }
    }

    /// Waits until every local region has a leader (for a standalone node: until it has elected itself and
    /// replayed its log), so requests are served rather than refused.
    ///
    /// - Parameter timeout: Seconds to wait at most.
    /// - Returns: Whether the store became ready in time.
    public func waitUntilReady(timeout: Double) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if inboxLocked({ $0.ready }) { return true }
            if inboxLocked({ $0.failed }) { return false }
            usleep(2_000)
        }
        return false
    }

    /// Stops taking requests, finishes the queued ones, flushes applied writes to LMDB (unless
    /// ``RaftStoreOptions/flushOnStop`` is off) and stops the loop. Idempotent.
    public func stop() {
        let first = stopState.withLock { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        transport?.shutdown()
        guard loopStarted else { return }  // a half-made store (its init threw): nothing runs
        inboxLocked { $0.stopping = true }
        wakeLoopIfWorkRemains()
        loopFinished.lock(whenValue: true)
        loopFinished.unlock()
        flushQueue.sync {}
        try? loopThread.syncShutdownGracefully()
    }

    /// The failure that stopped the store, once ``stop()`` has returned (nil if none).
    public var stoppedByFailure: RaftStoreError? {
        stopState.withLock { $0.stopped } ? storeLock.withLock { _ in failure } : nil
    }

    /// Stops the store and closes the log and LMDB. Idempotent.
    public func close() {
        stop()
        let first = stopState.withLock { state in
            defer { state.closed = true }
            return !state.closed
        }
        guard first else { return }
        log.close()
        environment.close()
    }

    func inboxLocked<T>(_ body: (inout Inbox) -> T) -> T {
        wakeUp.lock()
        let value = body(&inbox)
        wakeUp.unlock()
        return value
    }

    /// Marks the store failed: later writes are refused, waiting ones answered with the error. Call with
    /// `storeLock` held.
    func fail(_ error: RaftStoreError) {
        guard failure == nil else { return }
        failure = error
        logger.critical("the store stopped taking writes: \(error.message)")
        let answer = storageFailureResponse
        roundChanges = [:]  // a half-applied entry must never become visible
        for peer in peers.values {
            for proposal in peer.takeAllProposals() where proposal.submission.partsLeft > 0 {
                proposal.submission.fail(answer)
                completions.append(proposal.submission)
            }
        }
        for waiting in waitingReads {
            waiting.submission.fail(answer)
            completions.append(waiting.submission)
        }
        waitingReads = []
        for pending in pendingReadIndex.values.flatMap(\.submissions) + readsAwaitingIndex.values.flatMap({ $0 }) {
            pending.fail(answer)
            completions.append(pending)
        }
        pendingReadIndex = [:]
        readsAwaitingIndex = [:]
        inboxLocked { $0.failed = true }
        onFailure(error)
    }

    /// The answer for writes after a failure. Call with `storeLock` held.
    var storageFailureResponse: Response {
        .error(ProtocolError(
            .storage,
            "the node stopped taking writes (\(failure?.message ?? "storage failure")); a write already in its log "
                + "applies when it restarts"))
    }

    /// The answer for writes after a failure, taking `storeLock`.
    var storageFailureResponseLocked: Response {
        storeLock.withLock { _ in storageFailureResponse }
    }

    static let shuttingDown = Response.error(ProtocolError(.shuttingDown, "the node is shutting down"))

    static func storageError(_ error: any Error) -> Response {
        .error(ProtocolError(.storage, "\(error)"))
    }
}

// MARK: - Sendable

// The inbox is guarded by `wakeUp`; loop-owned state is touched only by the loop thread (and by `init` before
// it starts); `published` is a Mutex; the environment, the log's statistics and the counters are thread-safe.
extension RaftStore: @unchecked Sendable {}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
