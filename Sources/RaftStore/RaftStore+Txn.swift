import Dispatch
import KVEngine
import KVProtocol
import KVServer
import Synchronization
import Txn

#if canImport(Glibc)
import Glibc
#endif

// The transactional API on the raftstore: write commands run while the Raft log applies (so every replica
// runs them in log order on the same state — the log serializes commands on the same keys, which is what
// TiKV's latches do for commands computed before proposing); reads run on any thread like raw reads.
extension RaftStore {
    /// Runs a transactional write command at apply time and stages its changes in the round.
    func applyTxn(_ request: TxnRequest, in region: Region) throws -> Response {
        if case .commitOnePhase(_, let commitTS, let mutations) = request {
            memoryLocksToRelease.append(MemoryLock(committing: mutations, at: commitTS))
        }
        // The command reads what earlier commands of this round changed: a few changes are read through an
        // overlay; many are sealed into a layer first (the overlay's seek walks every change).
        if roundChanges.count > RoundOverlay.maxChanges { sealRound() }
        let layers = working.layers
        let changes = roundChanges
        let outcome = try environment.read { txn in
            let overlay = RoundOverlay(changes: changes, base: AppliedStateReader(layers: layers, txn: txn))
            return try TxnExecutor(snapshot: overlay, lower: region.startKey, upper: region.endKey).execute(request)
        }
        for change in outcome.changes { roundChanges.updateValue(change.value, forKey: ByteKey(change.key)) }
        return outcome.response
    }

    /// Answers a transactional read from the applied state, within `region`'s keys when given. A snapshot
    /// below the GC safe point may have lost versions: it is refused.
    func answerTxnRead(_ request: TxnRequest, from reader: AppliedStateReader, in region: Region? = nil) throws -> Response {
        // `TMGET 0` got its timestamp before any reader existed (read(), or propose() for reads the loop
        // answers): taking one here could write the oracle's mark to LMDB inside a read transaction.
        if request.readsAtFreshTimestamp {
            return .error(cluster != nil
                ? ProtocolError(.notSupported, "TMGET 0 needs a standalone node: in a cluster timestamps come from kvsched")
                : ProtocolError(.internalError, "TMGET 0 reached the reader without its timestamp"))
        }
        if let refusal = tooOld(request) ?? waitsForOnePhaseCommit(request) { return .error(refusal) }
        return try TxnExecutor(snapshot: reader, lower: region?.startKey ?? [], upper: region?.endKey ?? []).read(request)
    }

    /// `ABORTED` for a read or prewrite whose start timestamp lies below the GC safe point this node knows.
    func tooOld(_ request: TxnRequest) -> ProtocolError? {
        let startTS: UInt64
        switch request {
        case .get(_, let ts): startTS = ts
        case .batchGet(_, let ts) where ts > 0: startTS = ts
        case .scan(let scan): startTS = scan.startTS
        case .prewrite(let prewrite): startTS = prewrite.startTS
        case .commitOnePhase(let ts, _, _): startTS = ts
        default: return nil
        }
        let safePoint = knownSafePoint.load(ordering: .relaxed)
        guard startTS < safePoint else { return nil }
        return ProtocolError(.aborted, "start_ts \(startTS) is below the GC safe point \(safePoint): start the transaction again")
    }

    // MARK: - One-phase commit

    /// Gives the submission's requests that need one a timestamp of a standalone node's oracle, in request
    /// order (a read after a one-phase commit on the same connection reads after its commit timestamp):
    /// each one-phase commit (`ONE_PC start 0 …`) its commit timestamp, after taking memory locks on its keys
    /// so that no read at or after that timestamp reads them before the commit is visible; each `TMGET 0`
    /// its start timestamp, before any reader exists (the loop answers it later, at a state at least as new).
    /// A cluster's timestamps come from kvsched: there `ONE_PC` is refused and `TMGET 0` left to be refused
    /// when answered. Called last before proposing: every memory lock it takes is dropped after the round
    /// that applies the entry is published, or by the caller (``releaseMemoryLocks(_:)``) if the entry is not
    /// proposed after all.
    ///
    /// - Returns: The memory locks taken.
    /// - Throws: ``ProtocolError``: `BAD_ARGUMENT` for a commit timestamp given by the client (only the node
    ///   takes it: a client's could lie below snapshots already handed out), `NOT_SUPPORTED` in a cluster,
    ///   `SERVER_BUSY` when another one-phase commit of a key is in flight, `STORAGE` when no timestamp could
    ///   be taken. No lock stays taken then.
    func assignTimestamps(_ submission: inout WriteSubmission) throws(ProtocolError) -> [MemoryLock] {
        var taken: [MemoryLock] = []
        do throws(ProtocolError) {
            for i in submission.requests.indices {
                let (request, context) = submission.requests[i].withoutContext
                if case .txn(let read) = request, read.readsAtFreshTimestamp, cluster == nil {
                    let fresh: TxnRequest
                    do { fresh = try withFreshTimestamp(read) } catch { continue }  // refused when answered
                    submission.requests[i] = context.map { .inRegion($0, .txn(fresh)) } ?? .txn(fresh)
                    continue
                }
                guard case .txn(.commitOnePhase(let startTS, let givenCommitTS, let mutations)) = request else { continue }
                guard givenCommitTS == 0 else {
                    throw ProtocolError(.badArgument, "ONE_PC takes commit_ts 0: the node takes the commit timestamp")
                }
                guard cluster == nil else {
                    throw ProtocolError(.notSupported, "one-phase commit needs a standalone node; use PREWRITE and COMMIT")
                }
                let keys = mutations.map { ByteKey($0.key) }
                let free = memoryLocks.withLock { locks in
                    guard keys.allSatisfy({ locks[$0] == nil }) else { return false }
                    for key in keys { locks[key] = .max }  // held before the timestamp exists
                    return true
                }
                guard free else {
                    // Busy, not a conflict: it may be this transaction's own earlier attempt, whose answer was lost.
                    throw ProtocolError(.serverBusy, "a commit of one of the keys is being applied (start_ts=\(startTS)); retry")
                }
                let commitTS: UInt64
                do {
                    commitTS = try nextTimestamps(count: 1)
                } catch {
                    memoryLocks.withLock { locks in for key in keys { locks[key] = nil } }
                    throw ProtocolError(.storage, "no commit timestamp: \(error)")
                }
                memoryLocks.withLock { locks in for key in keys { locks[key] = commitTS } }
                taken.append(MemoryLock(keys: keys, commitTS: commitTS))
                let assigned = Request.txn(.commitOnePhase(startTS: startTS, commitTS: commitTS, mutations: mutations))
                submission.requests[i] = context.map { .inRegion($0, assigned) } ?? assigned
            }
        } catch {
            releaseMemoryLocks(taken)
            throw error
        }
        return taken
    }

    /// Drops the memory locks of the one-phase commits applied in the round just published.
    func releaseMemoryLocks() {
        guard !memoryLocksToRelease.isEmpty else { return }
        let done = memoryLocksToRelease
        memoryLocksToRelease = []
        releaseMemoryLocks(done)
    }

    /// Drops `done` (each only if its key still holds that commit's lock).
    func releaseMemoryLocks(_ done: [MemoryLock]) {
        guard !done.isEmpty else { return }
        memoryLocks.withLock { locks in
            for lock in done {
                for key in lock.keys where locks[key] == lock.commitTS { locks[key] = nil }
            }
        }
    }

    /// `SERVER_BUSY` for a read at or after the commit timestamp of a one-phase commit of one of its keys that
    /// readers cannot see yet.
    func waitsForOnePhaseCommit(_ request: TxnRequest) -> ProtocolError? {
        let pending: [ByteKey: UInt64] = memoryLocks.withLock { $0 }
        guard !pending.isEmpty else { return nil }
        let blocked: Bool
        switch request {
        // `.max`: the commit timestamp is being taken and may turn out below the read's.
        case .get(let key, let startTS):
            blocked = pending[ByteKey(key)].map { $0 == .max || $0 <= startTS } ?? false
        case .batchGet(let keys, let startTS):
            blocked = keys.contains { pending[ByteKey($0)].map { $0 == .max || $0 <= startTS } ?? false }
        case .scan(let scan):
            blocked = pending.contains { key, commitTS in
                (commitTS == .max || commitTS <= scan.startTS) && !key.bytes.lexicographicallyPrecedes(scan.start)
                    && (scan.end.isEmpty || key.bytes.lexicographicallyPrecedes(scan.end))
            }
        default:
            blocked = false
        }
        return blocked ? ProtocolError(.serverBusy, "a commit of the key is being applied; retry") : nil
    }

    /// `request` (`TMGET 0`) at a timestamp taken now from a standalone node's oracle.
    ///
    /// - Throws: ``ProtocolError``: `NOT_SUPPORTED` in a cluster (timestamps are kvsched's), `STORAGE` when
    ///   no timestamp could be taken.
    func withFreshTimestamp(_ request: TxnRequest) throws(ProtocolError) -> TxnRequest {
        guard case .batchGet(let keys, 0) = request else { return request }
        guard cluster == nil else {
            throw ProtocolError(.notSupported, "TMGET 0 needs a standalone node: in a cluster timestamps come from kvsched")
        }
        do {
            return .batchGet(keys: keys, startTS: try nextTimestamps(count: 1))
        } catch {
            throw ProtocolError(.storage, "no timestamp: \(error)")
        }
    }

    /// `TSO [n]` on a standalone node, which has no kvsched: the node's own oracle, its high-water mark kept
    /// in the `meta` family. A cluster node refuses (timestamps come from kvsched alone, or two oracles
    /// would hand out the same ones).
    func answerTimestamps(count: Int) -> Response {
        guard cluster == nil else {
            return .error(ProtocolError(.notSupported, "in a cluster timestamps come from kvsched (TSO there)"))
        }
        do {
            return .ok(["first=\(try nextTimestamps(count: count))", "count=\(count)"])
        } catch {
            return Self.storageError(error)
        }
    }

    /// The first of `count` fresh timestamps of a standalone node's oracle.
    func nextTimestamps(count: Int) throws -> UInt64 {
        try standaloneOracle.withLock { oracle throws -> UInt64 in
            if oracle == nil {
                let stored = try environment.read { txn in try txn.get(MetaKeys.timestampLimit, in: .meta) }
                oracle = TimestampOracle(persistedLimit: try stored.map(MetaKeys.decodeIndex) ?? 0, window: 3000)
            }
            return try oracle!.next(count: count, now: wallClockMilliseconds()) { limit in
                try environment.write { txn in try txn.put(MetaKeys.bigEndian(limit), for: MetaKeys.timestampLimit, in: .meta) }
            }
        }
    }

    /// `GC_SAFE_POINT` / `SET_GC_SAFE_POINT` on a standalone node: its own safe point, kept in the `meta`
    /// family, trailing the clock by ``RaftStoreOptions/gcLifetimeMilliseconds`` (as kvsched's does).
    func answerSafePoint(raisingTo requested: UInt64?) -> Response {
        guard cluster == nil else {
            return .error(ProtocolError(.notSupported, "in a cluster the GC safe point is kvsched's"))
        }
        do {
            if let requested {
                let now = try nextTimestamps(count: 1)
                guard requested <= now else {
                    return .error(ProtocolError(.badArgument, "safe point \(requested) is ahead of the timestamp oracle (\(now))"))
                }
            }
            return .ok(["safe_point=\(try localSafePoint(raisingTo: requested))"])
        } catch {
            return Self.storageError(error)
        }
    }

    /// A standalone node's safe point, raised to `requested` and to the clock minus the lifetime (durably).
    func localSafePoint(raisingTo requested: UInt64? = nil) throws -> UInt64 {
        try standaloneSafePoint.withLock { current throws -> UInt64 in
            var value = try current ?? environment.read { txn in
                try txn.get(MetaKeys.gcSafePoint, in: .meta).map(MetaKeys.decodeIndex) ?? 0
            }
            let before = value
            let wall = wallClockMilliseconds()
            if options.gcLifetimeMilliseconds > 0, wall > options.gcLifetimeMilliseconds {
                value = max(value, (wall - options.gcLifetimeMilliseconds) << UInt64(TimestampOracle.logicalBits))
            }
            if let requested { value = max(value, requested) }
            if value != before {
                try environment.write { txn in try txn.put(MetaKeys.bigEndian(value), for: MetaKeys.gcSafePoint, in: .meta) }
            }
            current = value
            knownSafePoint.max(value, ordering: .relaxed)
            return value
        }
    }

    // MARK: - Garbage collection

    /// Every ``RaftStoreOptions/gcIntervalSeconds``: in the background, for each region led here, first
    /// settles the locks of transactions that started at or below the safe point (through ``lockResolver``:
    /// their primaries decide), then finds the keys that hold what no read at or after the safe point can see
    /// and proposes `GC` commands for them in batches (through Raft, so every replica drops the same records).
    /// A region with a lock that could not be settled is left for the next pass. A region is looked at again
    /// once the safe point moved. Call with `storeLock` held.
    ///
    /// A standalone node collects everything (`full`): it holds every region, so once its old locks are
    /// settled no transaction can still need an old commit record. A cluster node collects only old values
    /// and rollback records (`values`): a secondary lock in a region led elsewhere may still need its
    /// primary's commit record here, and nothing yet settles every region's old locks before any region is
    /// collected (TiKV's cluster-wide resolve-locks phase).
    func scheduleGarbageCollection() {
        guard options.gcIntervalSeconds > 0, failure == nil else { return }
        let now = monotonicSeconds()
        guard now >= nextGC else { return }
        nextGC = now + options.gcIntervalSeconds
        let led = peers.values.filter { $0.node.role == .leader && $0.isInitialized }.map(\.region)
        guard !led.isEmpty, gcRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return }
        sealRound()
        let layers = working.layers
        let cluster = cluster
        gcQueue.async { [self] in
            defer { gcRunning.store(false, ordering: .releasing) }
            guard let safePoint = try? (cluster.map { try $0.gcSafePoint() } ?? localSafePoint()), safePoint > 0 else { return }
            knownSafePoint.max(safePoint, ordering: .relaxed)
            let mode: TxnGCMode = cluster == nil ? .full : .values
            for region in led where (gcCollected.withLock { $0[region.id] } ?? 0) < safePoint {
                let lower = region.startKey.lexicographicallyPrecedes(TxnKeys.spaceStart) ? TxnKeys.spaceStart : region.startKey
                // A region wholly below the transactional key space holds nothing to collect.
                if !region.endKey.isEmpty && !lower.lexicographicallyPrecedes(region.endKey) { continue }
                guard let oldLocks = try? environment.read({ txn in
                    try MvccReader(AppliedStateReader(layers: layers, txn: txn)).locks(startedBy: safePoint, from: lower, below: region.endKey)
                }) else { continue }
                if !oldLocks.isEmpty {
                    guard let resolver = lockResolver.withLock({ $0 }) else { continue }
                    let settled = oldLocks.allSatisfy { lock in (try? resolver(lock)) == true }
                    // Collected next pass, over a view in which the settled locks are gone.
                    guard settled else { continue }
                    logger.debug("region \(region.id): settled \(oldLocks.count) locks below the GC safe point")
                    continue
                }
                guard let keys = try? environment.read({ txn in
                    try MvccReader(AppliedStateReader(layers: layers, txn: txn))
                        .keysWithGarbage(from: lower, below: region.endKey, safePoint: safePoint, mode: mode)
                }) else { continue }
                for start in stride(from: 0, to: keys.count, by: Self.gcBatch) {
                    requestGarbageCollection(
                        of: region, safePoint: safePoint, mode: mode, keys: Array(keys[start..<min(start + Self.gcBatch, keys.count)]))
                }
                gcCollected.withLock { $0[region.id] = safePoint }
                if !keys.isEmpty {
                    logger.debug("region \(region.id): collecting old versions of \(keys.count) keys below \(safePoint)")
                }
            }
        }
    }

    /// Keys per `GC` command: small enough that applying one never holds the store loop long.
    static let gcBatch = 64

    /// Proposes a `GC` command from inside the store, as a client's request would be.
    private func requestGarbageCollection(of region: Region, safePoint: UInt64, mode: TxnGCMode, keys: [[UInt8]]) {
        let regionID = region.id
        let request = Request.txn(.gc(safePoint: safePoint, mode: mode, keys: keys))
        let submission = WriteSubmission(requests: [.inRegion(RegionContext(region), request)]) {
            [logger] answers in
            if case .error(let error) = answers.first {
                logger.info("region \(regionID): garbage collection not done: \(error.message)")
            }
        }
        inboxLocked { $0.submissions.append(submission) }
        wakeLoopIfWorkRemains()
    }
}

extension AppliedStateReader: MvccSnapshot {
    /// The first pair in `[lower, upper)` of the applied state: the smallest key any layer or LMDB has there,
    /// valued by the newest layer that mentions it (past it when that layer deleted it). The MVCC reader
    /// seeks this way several times per key, so it skips the general scan's merging and allocations.
    public func first(from lower: [UInt8], below upper: [UInt8]) throws -> (key: [UInt8], value: [UInt8])? {
        let range = KeyRange(lower: lower, upper: upper.isEmpty ? nil : upper)
        return try txn.withIterator(range: range) { (stored: inout EngineIterator) throws -> (key: [UInt8], value: [UInt8])? in
            var from = lower
            var storedPair = try stored.next()
            // Within one user key's records (the MVCC reader's seeks), only the layers holding some of them.
            let group = layers.count > 1 ? KeyGroup.hash(within: lower, upper) : nil
            while true {
                // The newest layer's word on the smallest key any layer has from `from` on.
                var layered: (key: [UInt8], value: [UInt8]?)?
                for layer in layers where group.map(layer.mayHold(groupHash:)) ?? true {
                    let position = layer.lowerBound(from)
                    guard position < layer.count else { continue }
                    let key = layer.keys[position]
                    guard range.contains(key) else { continue }
                    if layered == nil || ByteOrder.precedes(key, layered!.key) { layered = (key, layer.values[position]) }
                }
                while let pair = storedPair, ByteOrder.precedes(pair.key, from) { storedPair = try stored.next() }
                guard let candidate = layered else { return storedPair.map { ($0.key, $0.value) } }
                if let pair = storedPair, ByteOrder.precedes(pair.key, candidate.key) { return (pair.key, pair.value) }
                if let value = candidate.value { return (candidate.key, value) }
                from = candidate.key + [0]  // deleted, not yet flushed: look past it
            }
        }
    }
}

func wallClockMilliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
}

/// The memory locks one one-phase commit holds: its keys, at its commit timestamp.
struct MemoryLock {
    var keys: [ByteKey]
    var commitTS: UInt64
}

extension MemoryLock {
    /// The locks of a one-phase commit of `mutations` at `commitTS`.
    init(committing mutations: [TxnMutation], at commitTS: UInt64) {
        self.init(keys: mutations.map { ByteKey($0.key) }, commitTS: commitTS)
    }
}

/// The applied state as a command in the middle of a round sees it: the round's changes so far (not yet a
/// layer) over the layers and LMDB. Saves sealing a layer before every transactional command of a round.
struct RoundOverlay: MvccSnapshot {
    /// Changes beyond which the round is sealed into a layer instead (a seek here walks all of them).
    static let maxChanges = 64

    /// This round's changes: a value, or nil for a deletion.
    let changes: [ByteKey: [UInt8]?]
    /// Everything applied before the round.
    let base: AppliedStateReader

    func get(_ key: [UInt8]) throws -> [UInt8]? {
        if let change = changes[ByteKey(key)] { return change }
        return try base.get(key)
    }

    func first(from lower: [UInt8], below upper: [UInt8]) throws -> (key: [UInt8], value: [UInt8])? {
        var from = lower
        while true {
            // The smallest changed key in [from, upper), if any.
            var changed: (key: [UInt8], value: [UInt8]?)?
            for (wrapped, value) in changes {
                let key = wrapped.bytes
                guard !ByteOrder.precedes(key, from) && (upper.isEmpty || ByteOrder.precedes(key, upper)) else { continue }
                if changed == nil || ByteOrder.precedes(key, changed!.key) { changed = (key, value) }
            }
            guard let changed else { return try base.first(from: from, below: upper) }
            // Below it the base decides; at it the change does (past it, for a deletion).
            if let stored = try base.first(from: from, below: changed.key) { return stored }
            if let value = changed.value { return (changed.key, value) }
            from = changed.key + [0]
        }
    }
}
