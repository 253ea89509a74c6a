import KVEngine
import KVProtocol
import LogEngine
import Raft

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Cluster mode: Raft messages in and out, peers created on first contact, snapshots, membership changes
// from the scheduler's operators, and linearizable reads through ReadIndex.
extension RaftStore {
    // MARK: - Receiving

    /// The largest Raft batch (a snapshot, mostly) accepted from one store.
    static let maxIncomingBatch = 1 << 30

    /// Takes one chunk of a `RAFT` transfer (on a network thread); a completed batch goes to the store loop.
    func receive(_ chunk: RaftTransferChunk) -> Response {
        guard let transport else {
            return .error(ProtocolError(.notSupported, "this node runs standalone and takes no Raft messages"))
        }
        if chunk.clusterID != 0 && chunk.clusterID != storeIdentity.clusterID {
            return .error(ProtocolError(
                .badArgument,
                "store \(chunk.fromStore) belongs to cluster \(chunk.clusterID); this node is of cluster \(storeIdentity.clusterID)"))
        }
        if transport.isCutOff(from: chunk.fromStore) {
            return .error(ProtocolError(.serverBusy, "messages from store \(chunk.fromStore) are cut off (fault injection)"))
        }
        let now = monotonicSeconds()
        lastHeardFrom.withLock { $0[chunk.fromStore] = now }
        enum Progress { case partial, complete([UInt8]), refused(String) }
        if !chunk.fromAddress.isEmpty { cluster?.learnStoreAddress(chunk.fromStore, chunk.fromAddress) }
        let progress: Progress = incomingChunks.withLock { pending in
            if chunk.sequence == 0 {
                pending[chunk.fromStore] = (0, [], chunk.connection)
            }
            // Only the connection that began the batch continues it: a batch is never spliced from two.
            guard var entry = pending[chunk.fromStore], entry.next == chunk.sequence, entry.connection == chunk.connection else {
                pending[chunk.fromStore] = nil
                return .refused("chunk \(chunk.sequence) from store \(chunk.fromStore) is out of sequence; resend the batch")
            }
            entry.bytes.append(contentsOf: chunk.payload)
            entry.next += 1
            if chunk.isLast {
                pending[chunk.fromStore] = nil
                return .complete(entry.bytes)
            }
            guard entry.bytes.count <= Self.maxIncomingBatch else {
                pending[chunk.fromStore] = nil
                return .refused("a Raft batch from store \(chunk.fromStore) is over \(Self.maxIncomingBatch) bytes")
            }
            pending[chunk.fromStore] = entry
            return .partial
        }
        let bytes: [UInt8]
        switch progress {
        case .partial: return .ok
        case .refused(let reason): return .error(ProtocolError(.badArgument, reason))
        case .complete(let complete): bytes = complete
        }
        do {
            let envelopes = try RaftEnvelope.decode(bytes)
            post(.raftMessages(envelopes))
            return .ok
        } catch {
            return .error(ProtocolError(.badArgument, "undecodable Raft batch from store \(chunk.fromStore): \(error)"))
        }
    }

    /// Steps each message into its peer, creating the peer when a leader contacts this store first.
    func handleRaftMessages(_ envelopes: [RaftEnvelope]) {
        for envelope in envelopes {
            guard envelope.to.storeID == storeIdentity.storeID, !envelope.isKeepAlive else { continue }
            if envelope.isHibernationNotice {
                if let peer = peers[envelope.region.id], peer.peerID == envelope.to.id { handleHibernationNotice(envelope, to: peer) }
                continue
            }
            var peer = peers[envelope.region.id]
            if peer == nil {
                peer = createPeer(for: envelope)
            }
            guard let peer, peer.peerID == envelope.to.id else {
                if peer == nil { deferVote(envelope) }
                continue
            }
            if envelope.message.kind == .snapshot, overlapsInitializedPeer(envelope.region) {
                // The range still belongs to another region here (one that has not applied a split yet):
                // installing would let its older entries overwrite the snapshot's data. The leader sends
                // another when the follower still needs one.
                continue
            }
            // Learn where the sender lives, for routing answers before our own region view catches up.
            if !peer.region.peers.contains(envelope.from) && peer.region.peers.allSatisfy({ $0.id != envelope.from.id }) {
                peer.knownPeers[envelope.from.id] = envelope.from.storeID
            }
            // Any message wakes a sleeping peer (the routine traffic of an awake one is no activity).
            if peer.isHibernating && envelope.wakesPeer { peer.wake() }
            peer.node.step(envelope.message)
            activeRegions.insert(peer.region.id)
        }
    }

    /// A peer for a region this store holds nothing of yet: it starts empty and gets the region's state from
    /// the leader (a snapshot, or the log from the start).
    private func createPeer(for envelope: RaftEnvelope) -> Peer? {
        // Only a leader's messages create peers; votes from strangers do not.
        switch envelope.message.kind {
        case .append, .heartbeat, .snapshot: break
        default: return nil
        }
        // A region this store's peer was removed from comes back only through a newer membership change.
        if let removedAt = tombstones[envelope.region.id], envelope.region.epoch.confVersion <= removedAt { return nil }
        // A range that a region here still covers is that region's until it applies the split that gave it
        // away: the new region's peer is made by the split.
        if overlapsInitializedPeer(envelope.region) { return nil }
        // The leader's view of the region; a snapshot or the replayed log brings the state that goes with it.
        var region = envelope.region
        if region.peer(onStore: storeIdentity.storeID) == nil { region.peers.append(envelope.to) }
        do {
            // Persisted at once, so a restart finds the peer (and its log) again.
            try environment.write { txn in
                try txn.put(region.encoded(), for: MetaKeys.region(region.id), in: .meta)
                try txn.put(MetaKeys.bigEndian(0), for: MetaKeys.applied(region.id), in: .meta)
            }
        } catch {
            fail(RaftStoreError(.storageFailed, "recording region \(region.id)'s new peer failed: \(error)"))
            return nil
        }
        let storage = PeerStorage(regionID: region.id, log: log, confState: ConfState(voters: []))
        let config = raftConfig(peerID: envelope.to.id)
        guard let node = try? RaftNode(config: config, storage: storage) else { return nil }
        let peer = Peer(region: region, peerID: envelope.to.id, storage: storage, node: node, appliedIndex: 0)
        peers[region.id] = peer
        installSnapshotProvider(on: peer)
        regionsChanged = true
        statistics.regions.store(peers.count, ordering: .relaxed)
        if firstRegionID == 0 { firstRegionID = region.id }
        deferredVotes[region.id] = nil
        logger.info("region \(region.id): created peer \(envelope.to.id) on first contact from peer \(envelope.from.id)")
        return peer
    }

    /// Whether a region here, other than `region` itself, holds part of `region`'s range.
    func overlapsInitializedPeer(_ region: Region) -> Bool {
        peers.values.contains { other in
            other.region.id != region.id && other.isInitialized
                && (region.endKey.isEmpty || other.region.startKey.lexicographicallyPrecedes(region.endKey))
                && (other.region.endKey.isEmpty || region.startKey.lexicographicallyPrecedes(other.region.endKey))
        }
    }

    /// Keeps a vote request for a region not here yet (a few per region, for a bounded number of regions), for
    /// the peer a split is about to create.
    private func deferVote(_ envelope: RaftEnvelope) {
        switch envelope.message.kind {
        case .requestVote, .requestPreVote: break
        default: return
        }
        guard peers[envelope.region.id] == nil, deferredVotes.count < 1024 || deferredVotes[envelope.region.id] != nil else { return }
        var kept = deferredVotes[envelope.region.id] ?? []
        kept.removeAll { $0.from == envelope.from }
        kept.append(envelope)
        deferredVotes[envelope.region.id] = Array(kept.suffix(4))
    }

    // MARK: - Sending

    /// Sends a Ready's messages (after its log write is durable).
    /// Sends the messages of a round's Readies, every region's together: one hand-off per destination store,
    /// so that a round touching many regions still goes out as one batch per store (sent one region at a time,
    /// the sender thread would wake for the first and deliver the rest a round trip later).
    func send(_ readies: [(Peer, Ready)]) {
        guard let transport else { return }
        var envelopes: [RaftEnvelope] = []
        for (peer, rd) in readies where !rd.messages.isEmpty {
            let from = RegionPeer(id: peer.peerID, storeID: storeIdentity.storeID)
            for message in rd.messages {
                guard let store = peer.storeID(of: message.to) else { continue }
                envelopes.append(RaftEnvelope(region: peer.region, from: from, to: RegionPeer(id: message.to, storeID: store), message: message))
            }
        }
        if !envelopes.isEmpty { transport.send(envelopes) }
    }

    // MARK: - Snapshots

    /// Lets Raft ask for snapshots of this peer's applied state.
    func installSnapshotProvider(on peer: Peer) {
        peer.storage.snapshotProvider = { [unowned self, unowned peer] () throws(RaftError) -> Snapshot in
            try makeSnapshot(of: peer)
        }
    }

    /// Every key of the region as applied so far (unflushed layers included), at the applied index.
    private func makeSnapshot(of peer: Peer) throws(RaftError) -> Snapshot {
        let index = peer.appliedIndex
        // After a failure the round's changes were dropped: the applied index runs ahead of the state.
        guard failure == nil, index > 0, let term = try? termOf(peer.region.id, at: index) else {
            throw RaftError.snapshotTemporarilyUnavailable
        }
        if let cached = peer.cachedSnapshot, cached.metadata.index == index { return cached }
        sealRound()
        var pairs: [(key: [UInt8], value: [UInt8])] = []
        do {
            let layers = working.layers
            try environment.read { txn in
                let reader = AppliedStateReader(layers: layers, txn: txn)
                var scan = ScanRequest(start: peer.region.startKey, end: peer.region.endKey, limit: ProtocolLimits.maxScanLimit)
                while true {
                    let (rows, more) = try reader.scan(scan)
                    for row in rows { pairs.append((row.key, row.value ?? [])) }
                    guard more, let last = rows.last else { break }
                    scan.start = last.key + [0]
                }
            }
        } catch {
            throw RaftError.snapshotTemporarilyUnavailable
        }
        let data = RegionSnapshotData(region: peer.region, pairs: pairs).encoded()
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: index, term: term, confState: peer.node.confState), data: data)
        peer.cachedSnapshot = snapshot
        statistics.snapshotsBuilt.add(1, ordering: .relaxed)
        logger.info("region \(peer.region.id): built a snapshot at index \(index) with \(pairs.count) keys")
        return snapshot
    }

    /// The term of a region's entry at `index`, including the entry the log was compacted to.
    private func termOf(_ region: UInt64, at index: UInt64) throws -> UInt64 {
        let point = log.compactionPoint(of: region)
        if point.index == index { return point.term }
        return try log.term(of: region, at: index)
    }

    /// Installs a received snapshot: every unflushed change goes to LMDB first, then, in the same durable
    /// transaction, the region's range is replaced by the snapshot's keys with the snapshot's index as applied
    /// index. The log restarts after the snapshot (the reset record goes into `batch`).
    func installSnapshot(_ snapshot: Snapshot, on peer: Peer, batch: inout LogBatch) throws {
        let data: RegionSnapshotData
        do {
            data = try RegionSnapshotData(decoding: snapshot.data)
        } catch {
            throw RaftStoreError(.corrupt, "region \(peer.region.id): undecodable snapshot: \(error)")
        }
        let range = KeyRange(
            lower: data.region.startKey.isEmpty ? nil : data.region.startKey,
            upper: data.region.endKey.isEmpty ? nil : data.region.endKey)
        // Every unflushed change becomes durable in the same transaction that replaces the region's range.
        try commitAppliedState(overriding: [peer.region.id: snapshot.metadata.index]) { txn in
            _ = try txn.deleteRange(range)
            for pair in data.pairs { try txn.put(pair.value, for: pair.key) }
            var record = BinaryWriter(capacity: 16)
            record.u64(snapshot.metadata.index)
            record.u64(snapshot.metadata.term)
            try txn.put(record.bytes, for: MetaKeys.snapshot(peer.region.id), in: .meta)
            try txn.put(data.region.encoded(), for: MetaKeys.region(peer.region.id), in: .meta)
        }
        peer.region = data.region
        regionsChanged = true
        peer.appliedIndex = snapshot.metadata.index
        peer.durableAppliedIndex = snapshot.metadata.index
        peer.compactTo = max(peer.compactTo, snapshot.metadata.index)
        peer.storage.confState = snapshot.metadata.confState
        peer.cachedSnapshot = nil
        peer.measuredSize = nil
        if peer.region.id == firstRegionID {
            statistics.appliedIndex.store(snapshot.metadata.index, ordering: .relaxed)
        }
        batch.reset(region: peer.region.id, index: snapshot.metadata.index, term: snapshot.metadata.term)
        statistics.snapshotsInstalled.add(1, ordering: .relaxed)
        logger.info("region \(peer.region.id): installed a snapshot at index \(snapshot.metadata.index) with \(data.pairs.count) keys")
    }

    /// Waits for a flush running in the background and takes its result now.
    func finishFlushInFlight() {
        guard flush != nil else { return }
        flushQueue.sync {}
        let finished = inboxLocked { inbox -> [StoreEvent] in
            var taken: [StoreEvent] = []
            inbox.events.removeAll { event in
                if case .flushFinished = event { taken.append(event); return true }
                return false
            }
            return taken
        }
        for event in finished { handleFlushEvent(event) }
    }

    // MARK: - Membership

    /// Applies a committed membership change: the region's peers and `conf_ver` change, durably, and Raft's
    /// configuration follows. Replayed changes (after a restart) are recognised and applied idempotently.
    func applyConfChange(_ entry: Entry, to peer: Peer) throws {
        guard let change = try? ConfChange(decoding: entry.data) else {
            throw RaftStoreError(.corrupt, "region \(peer.region.id): undecodable membership change at \(entry.index)")
        }
        var region = peer.region
        switch change.kind {
        case .addNode:
            var reader = BinaryReader(change.context, what: "membership change")
            let store = (try? reader.u64()) ?? 0
            if !region.peers.contains(where: { $0.id == change.nodeID }) {
                region.peers.append(RegionPeer(id: change.nodeID, storeID: store))
                region.epoch.confVersion += 1
            }
        case .removeNode:
            if region.peers.contains(where: { $0.id == change.nodeID }) {
                region.peers.removeAll { $0.id == change.nodeID }
                region.epoch.confVersion += 1
            }
        }
        let confState = peer.node.applyConfChange(change)
        peer.storage.confState = confState
        if region != peer.region {
            try environment.write { txn in try txn.put(region.encoded(), for: MetaKeys.region(region.id), in: .meta) }
            statistics.lmdbCommits.add(1, ordering: .relaxed)
            logger.info("region \(region.id): \(change.kind == .addNode ? "added" : "removed") peer \(change.nodeID); peers now \(region.peers.map(\.id)), conf_ver \(region.epoch.confVersion)")
            peer.region = region
            regionsChanged = true
            peer.cachedSnapshot = nil
        }
        if change.kind == .removeNode && change.nodeID == peer.peerID {
            peer.isRemoved = true
        }
    }

    /// Destroys peers that were removed from their region: their data goes, their log is compacted away, and
    /// a tombstone stays so that messages still in flight from the region's other peers cannot recreate them.
    func dropRemovedPeers() {
        for (id, peer) in peers where peer.isRemoved {
            peers[id] = nil
            regionsChanged = true
            dropProposalsAsNotLeader(peer)
            readsAwaitingIndex[id] = nil
            let range = KeyRange(
                lower: peer.region.startKey.isEmpty ? nil : peer.region.startKey,
                upper: peer.region.endKey.isEmpty ? nil : peer.region.endKey)
            // No other region here covers the range (local regions never overlap), so its keys are nobody's.
            let keepData = overlapsInitializedPeer(peer.region)
            do {
                // In one commit with everything applied so far, so that no replay can write into the range again.
                try commitAppliedState(overriding: [:]) { txn in
                    if !keepData { _ = try txn.deleteRange(range) }
                    try txn.put(MetaKeys.bigEndian(peer.region.epoch.confVersion), for: MetaKeys.tombstone(id), in: .meta)
                    _ = try txn.delete(MetaKeys.region(id), in: .meta)
                    _ = try txn.delete(MetaKeys.applied(id), in: .meta)
                    _ = try txn.delete(MetaKeys.snapshot(id), in: .meta)
                }
                // The log goes too, hard state included: if the region comes back here it is as a new peer
                // (new id) that must start empty, not from entries whose data was just destroyed.
                var batch = LogBatch()
                batch.reset(region: id, index: 0, term: 0)
                batch.setHardState(region: id, HardState())
                try writeLog(batch)
            } catch {
                fail(RaftStoreError(.storageFailed, "destroying region \(id)'s removed peer failed: \(error)"))
            }
            tombstones[id] = peer.region.epoch.confVersion
            logger.notice("region \(id): this store's peer \(peer.peerID) was removed from the region; its data is destroyed")
        }
        statistics.regions.store(peers.count, ordering: .relaxed)
    }

    // MARK: - Operators from the scheduler

    /// Asks the store loop to carry out an operator, if this store leads the region.
    public func execute(_ regionOperator: RegionOperator) {
        post(.regionOperator(regionOperator))
    }

    func handle(_ regionOperator: RegionOperator) {
        guard let peer = peers[regionOperator.regionID], peer.node.role == .leader else { return }
        peer.wake()
        activeRegions.insert(peer.region.id)
        do {
            switch regionOperator.kind {
            case .addPeer:
                var context = BinaryWriter(capacity: 8)
                context.u64(regionOperator.peer.storeID)
                peer.knownPeers[regionOperator.peer.id] = regionOperator.peer.storeID
                _ = try peer.node.proposeConfChange(ConfChange(kind: .addNode, nodeID: regionOperator.peer.id, context: context.bytes))
            case .removePeer:
                _ = try peer.node.proposeConfChange(ConfChange(kind: .removeNode, nodeID: regionOperator.peer.id))
            case .transferLeader:
                // Only to a follower that is caught up and answering: Raft refuses proposals while a transfer
                // runs (up to an election timeout), and the scheduler repeats the operator every heartbeat, so
                // a transfer to a dead or lagging peer would block the region's writes until the operator
                // timed out. Declined now, it is asked again with the next heartbeat.
                guard let progress = peer.node.progress(of: regionOperator.peer.id), progress.recentActive,
                    progress.match == peer.node.lastIndex
                else {
                    logger.debug("region \(peer.region.id): not transferring leadership to peer \(regionOperator.peer.id) yet: not caught up or not answering")
                    return
                }
                try peer.node.transferLeader(to: regionOperator.peer.id)
            }
        } catch {
            // A change already pending, or leadership moving: the scheduler repeats the operator.
            logger.debug("region \(peer.region.id): operator \(regionOperator.kind.rawValue) not proposed now: \(error)")
        }
    }

    // MARK: - Linearizable reads

    /// Queues a read-only submission for the turn's ReadIndex of its region (see ``issueReadIndexes()``).
    func requestReadIndex(_ submission: SubmissionInFlight, peer: Peer) {
        submission.readFloor = peer.node.lastIndex
        peer.wake()
        readsAwaitingIndex[peer.region.id, default: []].append(submission)
    }

    /// One ReadIndex per region for all the reads a turn took: each is answered once the region applied what
    /// the leader had committed when it confirmed its leadership with a quorum (thesis §6.4), so a deposed
    /// leader never answers. Sharing the request shares its heartbeat round.
    func issueReadIndexes() {
        guard !readsAwaitingIndex.isEmpty else { return }
        let batches = readsAwaitingIndex
        readsAwaitingIndex = [:]
        for (regionID, submissions) in batches {
            guard let peer = peers[regionID], peer.node.role == .leader else {
                let answer = peers[regionID].map(notLeaderResponse)
                    ?? .error(ProtocolError(.regionNotFound, "region \(regionID) is not on this store"))
                for submission in submissions {
                    submission.fail(answer)
                    completions.append(submission)
                }
                continue
            }
            nextReadContext += 1
            let context = nextReadContext
            var bytes = BinaryWriter(capacity: 8)
            bytes.u64(context)
            activeRegions.insert(regionID)
            do {
                try peer.node.readIndex(context: bytes.bytes)
                pendingReadIndex[context] = (regionID, submissions, monotonicSeconds() + Double(options.readTimeoutMilliseconds) / 1000)
            } catch {
                for submission in submissions {
                    submission.fail(notLeaderResponse(peer))
                    completions.append(submission)
                }
            }
        }
    }

    /// Moves answered ReadIndex requests to the reads waiting for their index to apply.
    func handleReadStates(_ states: [ReadState]) {
        for state in states {
            var reader = BinaryReader(state.context, what: "read context")
            guard let context = try? reader.u64(), let pending = pendingReadIndex.removeValue(forKey: context) else { continue }
            for submission in pending.submissions {
                waitingReads.append((max(state.index, submission.readFloor), pending.regionID, submission))
            }
        }
    }

    /// Answers ReadIndex requests that got no answer in time (leadership changed, or no quorum).
    func expireReadIndexRequests() {
        guard !pendingReadIndex.isEmpty else { return }
        let now = monotonicSeconds()
        for (context, pending) in pendingReadIndex where pending.deadline <= now {
            pendingReadIndex[context] = nil
            let answer = peers[pending.regionID].map(notLeaderResponse)
                ?? .error(ProtocolError(.regionNotFound, "region \(pending.regionID) is not on this store"))
            for submission in pending.submissions {
                submission.fail(answer)
                completions.append(submission)
            }
        }
    }

    /// `FAULT`: replaces the injected faults (tests only).
    func injectFaults(_ faults: FaultInjection) -> Response {
        guard let transport, cluster?.enableFaultInjection == true else {
            return .error(ProtocolError(.notSupported, "fault injection is off: start kvnode with --enable-fault-injection"))
        }
        transport.faults.withLock { $0 = faults }
        logger.warning("fault injection: drop \(faults.dropRate), delay up to \(faults.maxDelayMilliseconds) ms, cut off from \(faults.isolatedStores.sorted())")
        return .ok
    }

    // MARK: - Answers and reports

    /// `ERR NOT_LEADER region=R leader_store=S leader_address=A ...`: where the client should go instead.
    func notLeaderResponse(_ peer: Peer) -> Response {
        let leader = peer.node.leader
        let store = leader == 0 ? 0 : (peer.storeID(of: leader) ?? 0)
        let address = store == 0 ? "" : (cluster?.cachedStoreAddress(store) ?? "")
        var fields = ProtocolFields()
        fields.append("region", peer.region.id)
        fields.append("leader_store", store)
        fields.append("leader_address", address)
        let text = leader == 0 ? "region \(peer.region.id) has no leader right now; retry" : "region \(peer.region.id) is led by store \(store)"
        return .error(ProtocolError(.notLeader, fields.words.joined(separator: " ") + " " + text))
    }

    /// Refreshes what heartbeats report. Call with `storeLock` held.
    func refreshLeadership() {
        let reports = peers.values.filter { $0.node.role == .leader }.map { peer in
            let size = peer.approximateSize
            return LeaderReport(region: peer.region, leaderPeerID: peer.peerID, approximateSize: size.bytes, approximateKeys: size.keys)
        }
        leadership.withLock { $0 = reports }
        peerCount.store(peers.count, ordering: .relaxed)
    }

    /// The regions this store leads, as of the last store loop turn.
    public var leaderReports: [LeaderReport] { leadership.withLock { $0 } }

    /// Region peers on this store.
    public var regionCount: Int { peerCount.load(ordering: .relaxed) }

    private func dropProposalsAsNotLeader(_ peer: Peer) {
        for proposal in peer.takeAllProposals() where proposal.submission.partsLeft > 0 {
            proposal.submission.fail(.error(ProtocolError(.outcomeUnknown, "the peer was removed before the write applied; it may or may not apply")))
            completions.append(proposal.submission)
        }
    }
}

extension Peer {
    /// The store holding a peer of this region, from the region's peers or what messages taught us.
    func storeID(of peerID: UInt64) -> UInt64? {
        region.peers.first { $0.id == peerID }?.storeID ?? knownPeers[peerID]
    }
}

extension RaftStore {
    /// The region this store bootstrapped the cluster with, if that is all it holds: the whole key space,
    /// epoch 1/1, one peer here (what ``SchedulerLink/confirmRegistration(of:timeout:)`` reports).
    public var bootstrapRegion: Region? {
        let regions = storeLock.withLock { _ in peers.values.map(\.region) }
        guard regions.count == 1, let region = regions.first, region.startKey.isEmpty, region.endKey.isEmpty,
            region.epoch == RegionEpoch(), region.peers.count == 1, region.peers[0].storeID == storeIdentity.storeID
        else { return nil }
        return region
    }

    /// The size of the file system holding the data directory and the bytes still free on it (0, 0 when
    /// `statvfs` fails), for the scheduler's store heartbeat.
    public var diskSpace: (capacity: UInt64, available: UInt64) {
        var info = statvfs()
        guard statvfs(directory, &info) == 0 else { return (0, 0) }
        return (UInt64(info.f_blocks) * UInt64(info.f_frsize), UInt64(info.f_bavail) * UInt64(info.f_frsize))
    }
}
