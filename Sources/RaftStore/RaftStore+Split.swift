import Dispatch
import KVEngine
import KVProtocol
import KVServer
import LogEngine
import Raft
import Txn

/// What a background split check found about one region.
struct SplitCheckResult {
    /// The region and the epoch it had when the check began.
    var regionID: UInt64
    var epoch: RegionEpoch
    /// Bytes of keys and values, and the number of keys.
    var bytes: UInt64
    var keys: UInt64
    /// Where to split to halve the region by size (a user-key boundary), or nil when it holds too few keys.
    var splitKey: [UInt8]?
}

// Splits: `SPLIT key` from clients and the size-based split checker both become a split command in the
// region's log. Each replica applies it in log order, so all of them cut the region at the same entry: the
// left part keeps the region's id, the keys from the split key on become a new region on the same stores,
// whose log starts at `initialLogIndex` over the data already here. The split is made durable at once (data,
// applied indexes and both regions in one LMDB commit), so a restart never replays entries across it.
extension RaftStore {
    // MARK: - Proposing

    /// Starts a `SPLIT` of `peer`'s region at `key`: the ids come from the scheduler on a background queue,
    /// then the store loop proposes the command (``handleSplitReady``).
    func beginSplit(_ submission: WriteSubmission, key: [UInt8], peer: Peer) {
        let inFlight = SubmissionInFlight(submission, parts: 1)
        guard let cluster else {
            inFlight.fail(.error(ProtocolError(
                .notSupported, "a standalone node holds one region; splits need a cluster (kvsched allocates the new ids)")))
            completions.append(inFlight)
            return
        }
        if key == peer.region.startKey {
            // Already split there (a retried SPLIT): answer with the regions as they are.
            let left = peers.values.first { $0.region.endKey == key && $0.isInitialized }?.region
            inFlight.responses[0] = .records(((left.map { [$0] } ?? []) + [peer.region]).map(\.fields.words))
            inFlight.partsLeft = 0
            completions.append(inFlight)
            return
        }
        let region = peer.region
        splitQueue.async { [self] in
            let result = Result { () throws(ProtocolError) -> SplitCommand in
                let first: UInt64
                do {
                    first = try cluster.allocateIDs(1 + region.peers.count)
                } catch {
                    throw ProtocolError(.serverBusy, "the scheduler could not allocate ids for the split (\(error)); retry")
                }
                return SplitCommand(
                    regionID: region.id, epoch: region.epoch, splitKey: key, newRegionID: first,
                    newPeerIDs: region.peers.enumerated().map { (i, peer) in (peer.id, first + 1 + UInt64(i)) })
            }
            post(.splitReady(result, submission))
        }
    }

    /// Proposes a split whose ids arrived, if the region is still as it was and led here.
    func handleSplitReady(_ result: Result<SplitCommand, ProtocolError>, _ submission: WriteSubmission) {
        let inFlight = SubmissionInFlight(submission, parts: 1)
        func answer(_ response: Response) {
            inFlight.fail(response)
            completions.append(inFlight)
        }
        let command: SplitCommand
        switch result {
        case .failure(let error): return answer(.error(error))
        case .success(let ready): command = ready
        }
        guard failure == nil else { return answer(storageFailureResponse) }
        guard let peer = peers[command.regionID] else {
            return answer(.error(ProtocolError(.regionNotFound, "region \(command.regionID) is not on this store")))
        }
        guard peer.region.epoch == command.epoch else {
            return answer(.error(epochNotMatch(peer.region, "the region changed while the split got its ids")))
        }
        peer.wake()
        activeRegions.insert(peer.region.id)
        guard peer.node.role == .leader else { return answer(notLeaderResponse(peer)) }
        do {
            let index = try peer.node.propose(batch: [command.encoded()])
            peer.proposals.append(Proposal(index: index, term: peer.node.term, submission: inFlight, requests: 0..<1))
            statistics.proposals.add(1, ordering: .relaxed)
        } catch {
            answer(.error(ProtocolError(.notLeader, "region \(peer.region.id) cannot take proposals here: \(error)")))
        }
    }

    /// Asks for a split from inside the store (the split checker), as a client's `SPLIT` would.
    func requestSplit(of region: Region, at key: [UInt8]) {
        let regionID = region.id
        let submission = WriteSubmission(requests: [.inRegion(RegionContext(region), .split(key: key))]) { [logger] answers in
            if case .error(let error) = answers.first {
                logger.info("region \(regionID): split by size not done: \(error.message)")
            }
        }
        inboxLocked { $0.submissions.append(submission) }
        wakeLoopIfWorkRemains()
    }

    // MARK: - Applying

    /// Applies a committed split on this replica; answers the proposal with both regions if it is ours.
    func applySplit(_ command: SplitCommand, at index: UInt64, to peer: Peer, proposal: Proposal?) throws {
        func answer(_ response: Response) {
            guard let proposal, proposal.submission.partsLeft > 0 else { return }
            proposal.submission.responses[0] = response
            proposal.submission.partsLeft = 0
            completions.append(proposal.submission)
        }
        let left: Region
        let right: Region
        switch command.outcome(for: peer.region) {
        case .failure(let refusal):
            logger.info("region \(peer.region.id): split at entry \(index) refused: \(refusal.message)")
            return answer(.error(refusal))
        case .success(let regions):
            (left, right) = regions
        }
        // The new region's peer here. Absent if this store's peer of it was already removed (this replica
        // lagged far behind); a peer created meanwhile by the new region's leader holds nothing yet and is
        // replaced, keeping its term and vote so it never votes twice in a term.
        let createChild = tombstones[right.id] == nil && !(peers[right.id]?.isInitialized ?? false)
        if createChild {
            let earlier = log.hardState(of: right.id)
            let term = max(Self.initialLogIndex, earlier?.term ?? 0)
            var batch = LogBatch()
            batch.reset(region: right.id, index: Self.initialLogIndex, term: Self.initialLogIndex)
            batch.setHardState(
                region: right.id,
                HardState(term: term, vote: term == earlier?.term ? earlier?.vote ?? 0 : 0, commit: Self.initialLogIndex))
            // Before LMDB records the region: a crash in between replays the split, and a log with a region
            // nobody records is harmless; the other order would leave a region whose log is missing.
            try writeLog(batch)
        }
        var applied = [peer.region.id: index]
        if createChild { applied[right.id] = Self.initialLogIndex }
        try commitAppliedState(overriding: applied) { txn in
            try txn.put(left.encoded(), for: MetaKeys.region(left.id), in: .meta)
            if createChild { try txn.put(right.encoded(), for: MetaKeys.region(right.id), in: .meta) }
        }
        let wasLeader = peer.node.role == .leader
        // Followers learn of a commit at the next heartbeat; this one they should apply now, so that the new
        // region has a quorum of peers for its first election.
        if wasLeader { peer.node.announceCommit() }
        peer.region = left
        regionsChanged = true
        peer.cachedSnapshot = nil
        peer.measuredSize = nil
        peer.writtenSinceCheck = 0
        if createChild {
            if let stale = peers[right.id] {
                for proposal in stale.takeAllProposals() where proposal.submission.partsLeft > 0 {
                    proposal.submission.fail(.error(ProtocolError(.staleCommand, "superseded by a split")))
                    completions.append(proposal.submission)
                }
            }
            let child = try startPeer(for: right, applied: Self.initialLogIndex)
            if wasLeader { child.node.campaign() }  // the new region's leader starts where the old one's is
            for envelope in deferredVotes.removeValue(forKey: right.id) ?? [] where envelope.to.id == child.peerID {
                child.node.step(envelope.message)
            }
            activeRegions.insert(right.id)
        }
        statistics.splits.add(1, ordering: .relaxed)
        cluster?.regionsChanged()
        logger.info("region \(left.id): split at entry \(index): keys from the split key on are region \(right.id) (peers \(right.peers.map(\.id)))")
        answer(.records([left.fields.words, right.fields.words]))
    }

    /// The Raft configuration of this store's peers. Commits are not broadcast (followers learn them from
    /// the next append or heartbeat, a tick later at most): on a node with many regions each written now and
    /// then, the broadcast was an append and an answer per follower per write, nearly doubling the Raft
    /// traffic; splits and membership changes are still announced at once.
    func raftConfig(peerID: UInt64) -> RaftConfig {
        RaftConfig(
            id: peerID, electionTick: options.electionTicks, heartbeatTick: options.heartbeatTicks, broadcastsCommit: false)
    }

    /// A Raft node for a region whose state is in LMDB and the log (at start, or made by a split).
    @discardableResult
    func startPeer(for region: Region, applied: UInt64) throws -> Peer {
        guard let local = region.peer(onStore: storeIdentity.storeID) else {
            throw RaftStoreError(.corrupt, "region \(region.id) has no peer on store \(storeIdentity.storeID)")
        }
        // A cluster peer created on first contact that has not received its snapshot yet holds nothing: it
        // must not count itself a voter (or campaign) until the snapshot brings the membership.
        let uninitialized = cluster != nil && applied == 0 && log.lastIndex(of: region.id) == 0
        let storage = PeerStorage(
            regionID: region.id, log: log, confState: ConfState(voters: uninitialized ? [] : region.peers.map(\.id)))
        var config = raftConfig(peerID: local.id)
        config.applied = applied
        let node: RaftNode
        do {
            node = try RaftNode(config: config, storage: storage)
        } catch {
            throw RaftStoreError(.corrupt, "region \(region.id): cannot start its Raft node: \(error)")
        }
        let peer = Peer(region: region, peerID: local.id, storage: storage, node: node, appliedIndex: applied)
        peers[region.id] = peer
        activeRegions.insert(region.id)
        regionsChanged = true
        if cluster != nil { installSnapshotProvider(on: peer) }
        statistics.regions.store(peers.count, ordering: .relaxed)
        firstRegionID = peers.keys.min() ?? 0
        return peer
    }

    /// Makes everything applied so far durable in one LMDB commit — every unflushed layer, the applied index
    /// of every region (`overriding` some) — together with what `body` writes. Used where a change to the
    /// regions themselves must never be replayed across (splits, snapshots, destroyed peers).
    func commitAppliedState(overriding: [UInt64: UInt64], _ body: (Transaction) throws -> Void) throws {
        finishFlushInFlight()
        sealRound()
        // Every unflushed layer, oldest first (a flush that failed and waits for its retry included).
        let layers = Array(working.layers.reversed())
        var applied = peers.mapValues(\.appliedIndex)
        applied.merge(overriding) { $1 }
        // Readers on other threads retry when LMDB may have moved under the layers they copied (as for a flush).
        flushesBegun.add(1, ordering: .sequentiallyConsistent)
        try environment.write { txn in
            for layer in layers {
                for i in 0..<layer.count {
                    if let value = layer.values[i] { try txn.put(value, for: layer.keys[i]) } else { _ = try txn.delete(layer.keys[i]) }
                }
            }
            try body(txn)
            for (region, index) in applied {
                try txn.put(MetaKeys.bigEndian(index), for: MetaKeys.applied(region), in: .meta)
            }
        }
        statistics.lmdbCommits.add(1, ordering: .relaxed)
        working = UnflushedChanges()
        flush = nil
        flushRetryAt = nil
        publish()
        for other in peers.values {
            other.durableAppliedIndex = applied[other.region.id] ?? other.durableAppliedIndex
        }
        if let first = applied[firstRegionID] {
            statistics.durableAppliedIndex.store(first, ordering: .relaxed)
        }
    }

    /// `EPOCH_NOT_MATCH` naming `region` and the local regions that continue it to the right (where split-off
    /// keys went), so a client updates its cache without asking the scheduler.
    func epochNotMatch(_ region: Region, _ text: String) -> ProtocolError {
        Self.epochNotMatch(region, text, regions: peers.values.filter(\.isInitialized).map(\.region))
    }

    static func epochNotMatch(_ region: Region, _ text: String, regions: [Region]) -> ProtocolError {
        var chain = [region]
        var byStart: [[UInt8]: Region] = [:]
        for other in regions where other.id != region.id { byStart[other.startKey] = other }
        while chain.count < 16, let end = chain.last?.endKey, !end.isEmpty, let next = byStart[end] { chain.append(next) }
        return ProtocolError(.epochNotMatch, (chain.flatMap(\.fields.words) + [text]).joined(separator: " "))
    }

    // MARK: - Size checks

    /// Starts background measurements of the regions led here that grew by a sixteenth of the maximum since
    /// their last check (or were never measured); at most one runs at a time. Call with `storeLock` held.
    func scheduleSplitChecks() {
        guard cluster != nil, options.regionMaxBytes > 0, failure == nil else { return }
        let now = monotonicSeconds()
        guard now >= nextSplitCheck else { return }
        nextSplitCheck = now + options.splitCheckIntervalSeconds
        guard !peers.values.contains(where: \.splitCheckRunning) else { return }
        let threshold = max(options.regionMaxBytes / 16, 1)
        guard let peer = peers.values
            .filter({ $0.node.role == .leader && ($0.measuredSize == nil || $0.writtenSinceCheck >= threshold) })
            .max(by: { $0.approximateSize.bytes < $1.approximateSize.bytes })
        else { return }
        sealRound()
        let layers = working.layers
        let region = peer.region
        let maxBytes = options.regionMaxBytes
        peer.splitCheckRunning = true
        peer.writtenSinceCheck = 0
        splitQueue.async { [self] in
            let result = try? environment.read { txn in
                try AppliedStateReader(layers: layers, txn: txn).measure(region, sampleEvery: max(maxBytes / 64, 1))
            }
            post(.splitCheckFinished(SplitCheckResult(
                regionID: region.id, epoch: region.epoch, bytes: result?.bytes ?? 0, keys: result?.keys ?? 0,
                splitKey: result?.middleKey.map(Self.userKeyBoundary))))
        }
    }

    /// Records a region's measured size, and splits it when it is over the maximum.
    func handleSplitCheck(_ result: SplitCheckResult) {
        guard let peer = peers[result.regionID] else { return }
        peer.splitCheckRunning = false
        guard peer.region.epoch == result.epoch else { return }
        peer.measuredSize = (result.bytes, result.keys)
        if result.bytes > UInt64(options.regionMaxBytes), let key = result.splitKey, peer.node.role == .leader,
            key != peer.region.startKey, peer.region.contains(key)
        {
            logger.info("region \(peer.region.id): \(result.bytes) bytes in \(result.keys) keys is over \(options.regionMaxBytes); splitting")
            requestSplit(of: peer.region, at: key)
        }
    }

    /// The split key for a key the checker found in the middle: the start of its user key, so that every
    /// version of one user key stays in one region. Raw keys are their own user keys; a transactional key is cut
    /// back to the start of its user key's records (see ``TxnKeys``).
    static func userKeyBoundary(_ key: [UInt8]) -> [UInt8] { TxnKeys.splitBoundary(key) }
}

extension AppliedStateReader {
    /// Bytes and keys of a region's applied state, and the key nearest the middle by bytes (sampled every
    /// `sampleEvery` bytes; nil with fewer than two samples).
    func measure(_ region: Region, sampleEvery: Int) throws -> (bytes: UInt64, keys: UInt64, middleKey: [UInt8]?) {
        var scan = ScanRequest(start: region.startKey, end: region.endKey, limit: ProtocolLimits.maxScanLimit)
        var bytes: UInt64 = 0
        var keys: UInt64 = 0
        var samples: [(at: UInt64, key: [UInt8])] = []
        var nextSample: UInt64 = 0
        while true {
            let (rows, more) = try self.scan(scan)
            for row in rows {
                if bytes >= nextSample {
                    if keys > 0 { samples.append((bytes, row.key)) }
                    nextSample = bytes + UInt64(sampleEvery)
                }
                bytes += UInt64(row.key.count + (row.value?.count ?? 0))
                keys += 1
            }
            guard more, let last = rows.last else { break }
            scan.start = last.key + [0]
        }
        let half = bytes / 2
        let middle = samples.min { a, b in
            (a.at > half ? a.at - half : half - a.at) < (b.at > half ? b.at - half : half - b.at)
        }
        return (bytes, keys, samples.count >= 1 ? middle?.key : nil)
    }
}
