import KVProtocol
import Txn

extension SchedulerService {
    /// Answers a scheduler request with the state locked.
    func answer(_ request: SchedulerRequest, state: inout ClusterState) throws(SchedulerError) -> Response {
        let now = clock.monotonicMilliseconds()
        switch request {
        case .clusterInfo:
            return .ok([
                "cluster_id=\(state.clusterID)", "bootstrapped=\(state.bootstrapped ? 1 : 0)",
                "stores=\(state.stores.count)", "regions=\(state.regions.count)",
            ])

        case .allocateIDs(let count):
            let first = try state.ids.next(count: count) { (limit: UInt64) throws(SchedulerError) in
                try storage.save([.idLimit(limit)])
            }
            return .ok(["first=\(first)", "count=\(count)"])

        case .timestamps(let count):
            let first = try state.oracle.next(count: count, now: clock.wallMilliseconds()) {
                (limit: UInt64) throws(SchedulerError) in try storage.save([.timestampLimit(limit)])
            }
            return .ok(["first=\(first)", "count=\(count)"])

        case .gcSafePoint:
            // With a lifetime, the safe point trails the clock: versions are kept that long.
            let wall = clock.wallMilliseconds()
            if options.gcLifetime > 0, wall > options.gcLifetime {
                let trailing = (wall - options.gcLifetime) << UInt64(TimestampOracle.logicalBits)
                if trailing > state.gcSafePoint {
                    try storage.save([.gcSafePoint(trailing)])
                    state.gcSafePoint = trailing
                }
            }
            return .ok(["safe_point=\(state.gcSafePoint)"])

        case .setGCSafePoint(let safePoint):
            // A safe point past every timestamp handed out would let GC take versions that transactions
            // starting later still read.
            let now = try state.oracle.next(count: 1, now: clock.wallMilliseconds()) {
                (limit: UInt64) throws(SchedulerError) in try storage.save([.timestampLimit(limit)])
            }
            guard safePoint <= now else {
                return .error(ProtocolError(.badArgument, "safe point \(safePoint) is ahead of the timestamp oracle (\(now))"))
            }
            if safePoint > state.gcSafePoint {
                try storage.save([.gcSafePoint(safePoint)])
                state.gcSafePoint = safePoint
            }
            return .ok(["safe_point=\(state.gcSafePoint)"])

        case .bootstrap(let store, let regionID, let peerID):
            if state.bootstrapped {
                let first = state.regions.all.first
                return .error(ProtocolError(
                    .alreadyBootstrapped,
                    "cluster \(state.clusterID) is bootstrapped already (first region \(first?.region.id ?? 0))"))
            }
            if let conflict = addressConflict(store, state: state) { return conflict }
            // Ids a node chose must not be handed out again: they come from ALLOC_ID, so they lie below the
            // allocator's mark; anything else is refused.
            guard [store.id, regionID, peerID].allSatisfy({ $0 < state.ids.persistedLimit }), Set([store.id, regionID, peerID]).count == 3 else {
                return .error(ProtocolError(.badArgument, "bootstrap ids must be distinct and come from ALLOC_ID"))
            }
            let region = Region(id: regionID, peers: [RegionPeer(id: peerID, storeID: store.id)])
            try storage.save([.store(store), .region(region), .cluster(id: state.clusterID, bootstrapped: true)])
            state.bootstrapped = true
            state.stores[store.id] = StoreState(descriptor: store, lastHeartbeat: nil, lastSeen: now)
            state.regions.place(RegionMap.Entry(region: region, leaderPeerID: peerID, approximateSize: 0, approximateKeys: 0))
            logger.notice("bootstrapped cluster \(state.clusterID): store \(store.id) at \(store.address), region \(regionID)")
            return .ok(["cluster_id=\(state.clusterID)"])

        case .putStore(let store):
            guard state.bootstrapped else {
                return .error(ProtocolError(.notBootstrapped, "the cluster is not bootstrapped: the first node does that"))
            }
            if let conflict = addressConflict(store, state: state) { return conflict }
            guard store.id < state.ids.persistedLimit else {
                return .error(ProtocolError(.badArgument, "store id \(store.id) was not handed out by ALLOC_ID"))
            }
            if state.stores[store.id]?.descriptor != store {
                try storage.save([.store(store, removing: state.stores[store.id]?.isRemoving ?? false)])
                if state.stores[store.id] == nil { logger.notice("store \(store.id) joined at \(store.address)") }
            }
            state.stores[store.id, default: StoreState(descriptor: store, lastHeartbeat: nil, lastSeen: now)].descriptor = store
            state.stores[store.id]?.lastSeen = now
            return .ok

        case .storeHeartbeat(let beat):
            guard state.stores[beat.storeID] != nil else {
                return .error(ProtocolError(.storeNotFound, "store \(beat.storeID) is not registered: send PUT_STORE first"))
            }
            state.stores[beat.storeID]?.lastHeartbeat = beat
            state.stores[beat.storeID]?.lastSeen = now
            return .ok

        case .regionHeartbeat(let beat):
            return try regionHeartbeat(beat, now: now, state: &state)

        case .regionByKey(let key):
            guard let entry = state.regions.region(containing: key) else {
                return .error(ProtocolError(
                    .regionNotFound,
                    state.bootstrapped ? "no region holds that key yet" : "the cluster is not bootstrapped yet"))
            }
            return .ok(Self.words(of: entry, stores: state.stores))

        case .regionByID(let id):
            guard let entry = state.regions[id] else {
                return .error(ProtocolError(.regionNotFound, "no region \(id)"))
            }
            return .ok(Self.words(of: entry, stores: state.stores))

        case .regions(let start, let limit):
            return .records(state.regions.regions(from: start, limit: limit).map { Self.words(of: $0, stores: state.stores) })

        case .stores:
            let counts = Self.counts(state.regions)
            return .records(state.stores.keys.sorted().map { Self.words(of: state.stores[$0]!, counts: counts, now: now, options: options) })

        case .store(let id):
            guard let store = state.stores[id] else { return .error(ProtocolError(.storeNotFound, "no store \(id)")) }
            return .ok(Self.words(of: store, counts: Self.counts(state.regions), now: now, options: options))

        case .transferLeader(let regionID, let storeID):
            guard let entry = state.regions[regionID] else {
                return .error(ProtocolError(.regionNotFound, "no region \(regionID)"))
            }
            guard let target = entry.region.peer(onStore: storeID) else {
                return .error(ProtocolError(.badArgument, "region \(regionID) has no peer on store \(storeID)"))
            }
            if let running = state.operators[regionID] {
                return .error(ProtocolError(
                    .conflict, "operator \(running.kind.rawValue) of peer \(running.peer.id) is running on region \(regionID); try again when it is done"))
            }
            if entry.leaderPeerID == target.id { return .ok(["already=1"]) }
            let transfer = SchedulingOperator(
                kind: .transferLeader, regionID: regionID, peer: target, reason: "requested by a client", createdAt: now)
            state.operators[regionID] = transfer
            logger.info("operator: transfer_leader to peer \(target.id) on store \(storeID) for region \(regionID) (requested)")
            return .ok

        case .removeStore(let id):
            guard var store = state.stores[id] else { return .error(ProtocolError(.storeNotFound, "no store \(id)")) }
            if store.isRemoving { return .ok(["already=1"]) }
            let remaining = state.stores.values.filter {
                $0.descriptor.id != id && !$0.isRemoving && $0.health(at: now, options: options) != .down
            }.count
            guard remaining >= options.maxReplicas else {
                return .error(ProtocolError(
                    .badArgument,
                    "removing store \(id) would leave \(remaining) store(s) for \(options.maxReplicas) replicas; add a store first"))
            }
            try storage.save([.store(store.descriptor, removing: true)])
            store.isRemoving = true
            state.stores[id] = store
            logger.notice("store \(id) is being removed: its replicas move to other stores")
            return .ok

        case .schedulers:
            let load = BalanceScheduler.Load(regions: state.regions, operators: state.operators)
            return .records(BalanceScheduler.Name.allCases.map { name in
                var fields = ProtocolFields()
                fields.append("name", name.rawValue)
                fields.append("enabled", state.enabledSchedulers.contains(name) ? 1 : 0)
                fields.append("running", load.running[name] ?? 0)
                return fields.words
            })

        case .addScheduler(let text), .removeScheduler(let text):
            guard let name = BalanceScheduler.Name(rawValue: text) else {
                return .error(ProtocolError(
                    .badArgument,
                    "no scheduler '\(text)'; there are \(BalanceScheduler.Name.allCases.map(\.rawValue).joined(separator: ", "))"))
            }
            let enable: Bool
            if case .addScheduler = request { enable = true } else { enable = false }
            if state.enabledSchedulers.contains(name) == enable { return .ok(["already=1"]) }
            try storage.save([.scheduler(name: name.rawValue, enabled: enable)])
            if enable { state.enabledSchedulers.insert(name) } else { state.enabledSchedulers.remove(name) }
            logger.notice("scheduler \(name.rawValue) turned \(enable ? "on" : "off")")
            return .ok

        case .operators:
            return .records(state.operators.keys.sorted().map { regionID in
                let running = state.operators[regionID]!
                var fields = ProtocolFields()
                fields.append("region", regionID)
                fields.append("kind", running.kind.rawValue)
                fields.append("peer", running.peer.id)
                fields.append("store", running.peer.storeID)
                fields.append("reason", running.reason)
                fields.append("age_ms", now >= running.createdAt ? now - running.createdAt : 0)
                return fields.words
            })
        }
    }

    /// Records what a leader reports, and answers with the region's operator if it needs one.
    private func regionHeartbeat(_ beat: RegionHeartbeat, now: UInt64, state: inout ClusterState) throws(SchedulerError) -> Response {
        let region = beat.region
        guard state.bootstrapped else {
            return .error(ProtocolError(.notBootstrapped, "the cluster is not bootstrapped"))
        }
        guard region.peers.contains(where: { $0.id == beat.leaderPeerID }) else {
            return .error(ProtocolError(.badArgument, "leader \(beat.leaderPeerID) is not a peer of region \(region.id)"))
        }
        if let known = state.regions[region.id], region.epoch.isStale(comparedTo: known.region.epoch) {
            return .error(ProtocolError(
                .epochNotMatch,
                "stale heartbeat for region \(region.id): epoch \(region.epoch.confVersion)/\(region.epoch.version), known \(known.region.epoch.confVersion)/\(known.region.epoch.version)"))
        }
        let overlapping = state.regions.overlaps(region)
        if let newer = overlapping.first(where: { $0.region.epoch.version >= region.epoch.version }) {
            // A region already in the map with an epoch at least as new covers part of this range: this
            // leader has not heard of a split or merge yet.
            return .error(ProtocolError(
                .epochNotMatch, "region \(region.id) overlaps region \(newer.region.id), which is at least as new"))
        }
        var changes: [SchedulerStorage.Change] = overlapping.map { .removeRegion($0.region.id) }
        if state.regions[region.id]?.region != region { changes.append(.region(region)) }
        try storage.save(changes)
        for old in overlapping {
            state.regions.remove(old.region.id)
            state.operators[old.region.id] = nil
        }
        let reported = RegionMap.Entry(
            region: region, leaderPeerID: beat.leaderPeerID, approximateSize: beat.approximateSize,
            approximateKeys: beat.approximateKeys)
        if state.regions[region.id] != reported { state.regions.place(reported) }

        if let pending = state.operators[region.id] {
            if pending.isFinished(by: region, leaderPeerID: beat.leaderPeerID) {
                logger.info("operator done: \(pending.kind.rawValue) peer \(pending.peer.id) region \(region.id)")
                state.operators[region.id] = nil
            } else if now - pending.createdAt >= options.operatorTimeout {
                logger.warning("operator timed out: \(pending.kind.rawValue) peer \(pending.peer.id) region \(region.id)")
                state.operators[region.id] = nil
            } else if pending.kind != .removePeer, !isUp(pending.peer.storeID, state: state, now: now) {
                // Its target went away (stopped heartbeating, or is being removed): waiting for the timeout
                // would hold back the replica checker, which may have a dead replica to replace.
                logger.info("operator cancelled: \(pending.kind.rawValue) peer \(pending.peer.id) region \(region.id): store \(pending.peer.storeID) is not up")
                state.operators[region.id] = nil
            } else {
                return .ok(pending.fields.words)
            }
        }
        // The replica checker first; the balance schedulers only for regions that have what they need. Stores
        // are compared by region score (sizes), operators in flight counted as done.
        let entry = state.regions[region.id]!
        let load = state.cachedLoad ?? BalanceScheduler.Load(regions: state.regions, operators: state.operators)
        state.cachedLoad = load
        let scores = load.regionScore.mapValues { Int(min($0 / (1 << 10), UInt64(Int.max))) }
        var decision = ReplicaChecker(options: options).check(entry, stores: state.stores, regionCounts: scores, now: now)
        var origin: BalanceScheduler.Name?
        let balancer = BalanceScheduler(options: options)
        if decision == .none, state.enabledSchedulers.contains(.balanceRegion) {
            decision = balancer.balanceRegion(entry, stores: state.stores, load: load, now: now)
            origin = .balanceRegion
        }
        if decision == .none, state.enabledSchedulers.contains(.balanceLeader) {
            decision = balancer.balanceLeader(entry, stores: state.stores, load: load, now: now)
            origin = .balanceLeader
        }
        let newOperator: SchedulingOperator
        switch decision {
        case .none:
            return .ok
        case .transferLeader(let peer, let reason):
            newOperator = SchedulingOperator(
                kind: .transferLeader, regionID: region.id, peer: peer, reason: reason, createdAt: now, origin: origin)
        case .addPeer(let storeID, let reason):
            let peerID = try state.ids.next(count: 1) { (limit: UInt64) throws(SchedulerError) in
                try storage.save([.idLimit(limit)])
            }
            newOperator = SchedulingOperator(
                kind: .addPeer, regionID: region.id, peer: RegionPeer(id: peerID, storeID: storeID), reason: reason,
                createdAt: now, origin: origin)
        case .removePeer(let peer, let reason):
            newOperator = SchedulingOperator(
                kind: .removePeer, regionID: region.id, peer: peer, reason: reason, createdAt: now, origin: origin)
        }
        state.operators[region.id] = newOperator
        logger.info("operator: \(newOperator.kind.rawValue) peer \(newOperator.peer.id) on store \(newOperator.peer.storeID) for region \(region.id) (\(newOperator.reason))")
        return .ok(newOperator.fields.words)
    }

    private func isUp(_ storeID: UInt64, state: ClusterState, now: UInt64) -> Bool {
        guard let store = state.stores[storeID] else { return false }
        return !store.isRemoving && store.health(at: now, options: options) == .up
    }

    private func addressConflict(_ store: StoreDescriptor, state: ClusterState) -> Response? {
        guard let other = state.stores.values.first(where: { $0.descriptor.address == store.address && $0.descriptor.id != store.id }) else {
            return nil
        }
        return .error(ProtocolError(
            .storeConflict,
            "address \(store.address) belongs to store \(other.descriptor.id); a node with a new data directory needs a new address"))
    }

    /// Regions and leaders per store, from the region map.
    static func counts(_ regions: RegionMap) -> (regions: [UInt64: Int], leaders: [UInt64: Int]) {
        var perStore: [UInt64: Int] = [:]
        var leaders: [UInt64: Int] = [:]
        for entry in regions.all {
            for peer in entry.region.peers { perStore[peer.storeID, default: 0] += 1 }
            if let leader = entry.leaderStoreID { leaders[leader, default: 0] += 1 }
        }
        return (perStore, leaders)
    }

    /// `<region fields> leader=PEER leader_store=STORE leader_address=ADDR size=B keys=N`.
    static func words(of entry: RegionMap.Entry, stores: [UInt64: StoreState]) -> [String] {
        var fields = entry.region.fields
        fields.append("leader", entry.leaderPeerID)
        let leaderStore = entry.leaderStoreID ?? 0
        fields.append("leader_store", leaderStore)
        fields.append("leader_address", stores[leaderStore]?.descriptor.address ?? "")
        fields.append("size", entry.approximateSize)
        fields.append("keys", entry.approximateKeys)
        return fields.words
    }

    /// `id= address= state= regions= leaders= capacity= available= last_heartbeat_ms=`.
    static func words(
        of store: StoreState, counts: (regions: [UInt64: Int], leaders: [UInt64: Int]), now: UInt64, options: SchedulerOptions
    ) -> [String] {
        var fields = ProtocolFields()
        fields.append("id", store.descriptor.id)
        fields.append("address", store.descriptor.address)
        let regionCount = counts.regions[store.descriptor.id] ?? 0
        fields.append(
            "state", store.isRemoving ? (regionCount == 0 ? "tombstone" : "offline") : store.health(at: now, options: options).rawValue)
        fields.append("regions", counts.regions[store.descriptor.id] ?? 0)
        fields.append("leaders", counts.leaders[store.descriptor.id] ?? 0)
        fields.append("capacity", store.lastHeartbeat?.capacity ?? 0)
        fields.append("available", store.lastHeartbeat?.available ?? 0)
        fields.append("last_heartbeat_ms", now >= store.lastSeen ? now - store.lastSeen : 0)
        return fields.words
    }
}
