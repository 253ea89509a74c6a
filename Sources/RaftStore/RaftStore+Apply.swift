import KVEngine
import KVProtocol
import KVServer
import Raft
import Txn

// Applying committed entries to the state machine, and answering reads from it.
extension RaftStore {
    /// Applies a peer's committed entries in order, answering the proposals among them. Entries up to the
    /// peer's applied index are skipped (replayed after a restart, or already applied).
    func apply(_ entries: [Entry], to peer: Peer) throws {
        for entry in entries where entry.index > peer.appliedIndex {
            var mine: Proposal?
            for proposal in peer.takeProposals(through: entry.index) {
                if proposal.index == entry.index && proposal.term == entry.term {
                    mine = proposal
                } else if proposal.submission.partsLeft > 0 {
                    // Its entry was overwritten by a new leader's: it never applies.
                    proposal.submission.fail(.error(ProtocolError(.staleCommand, "the write was dropped by a new leader; retry")))
                    completions.append(proposal.submission)
                }
            }
            switch entry.kind {
            case .normal where SplitCommand.isSplit(entry.data):
                try applySplit(try SplitCommand(decoding: entry.data), at: entry.index, to: peer, proposal: mine)
            case .normal where !entry.data.isEmpty:
                peer.writtenSinceCheck += entry.data.count
                if let mine {
                    // Our own proposal: its requests are at hand, no need to decode the entry.
                    try applyProposal(mine, to: peer)
                } else {
                    let command = try WriteCommand(decoding: entry.data)
                    guard command.regionID == peer.region.id else {
                        throw RaftStoreError(
                            .corrupt, "region \(peer.region.id): entry \(entry.index) carries a command for region \(command.regionID)")
                    }
                    // Proposed before a split that moved some of its keys away: refused on every replica alike.
                    if command.operations.allSatisfy({ $0.keys.allSatisfy(peer.region.contains) }) {
                        for operation in command.operations { _ = try applyOperation(operation, in: peer.region) }
                    }
                }
            case .confChange:
                try applyConfChange(entry, to: peer)
            case .normal:
                break  // a new leader's empty entry
            }
            peer.appliedIndex = entry.index
            statistics.appliedEntries.add(1, ordering: .relaxed)
            if entry.index <= replayThrough[peer.region.id] ?? 0 {
                statistics.replayedEntries.add(1, ordering: .relaxed)
            }
        }
        if peer.region.id == firstRegionID {
            statistics.appliedIndex.store(peer.appliedIndex, ordering: .relaxed)
        }
    }

    /// Applies the writes of one of this node's proposals and answers its requests in order, each read seeing
    /// exactly the writes before it.
    private func applyProposal(_ proposal: Proposal, to peer: Peer) throws {
        let inFlight = proposal.submission
        let answering = inFlight.partsLeft > 0
        let requests = inFlight.submission.requests[proposal.requests]
        if !requests.allSatisfy({ $0.writeOperation.map { $0.keys.allSatisfy(peer.region.contains) } ?? true }) {
            // A split between proposal and apply moved some of its keys to another region (the same decision
            // as followers make from the entry): nothing of it applies.
            for request in requests {
                if case .txn(.commitOnePhase(_, let commitTS, let mutations)) = request.withoutContext.request {
                    memoryLocksToRelease.append(MemoryLock(committing: mutations, at: commitTS))
                }
            }
            if answering {
                let refusal = Response.error(epochNotMatch(peer.region, "a split moved keys of the write to another region; it was not applied"))
                for i in proposal.requests { inFlight.responses[i] = refusal }
                inFlight.partsLeft -= 1
                if inFlight.partsLeft == 0 { completions.append(inFlight) }
            }
            return
        }
        for i in proposal.requests {
            let request = inFlight.submission.requests[i]
            let response: Response
            if let operation = request.writeOperation {
                response = try applyOperation(operation, in: peer.region)
            } else {
                response = try answerDuringApply(request)
            }
            if answering { inFlight.responses[i] = response }
        }
        if answering {
            inFlight.partsLeft -= 1
            if inFlight.partsLeft == 0 { completions.append(inFlight) }
        }
    }

    private func applyOperation(_ operation: WriteCommand.Operation, in region: Region) throws -> Response {
        statistics.writes.add(1, ordering: .relaxed)
        switch operation {
        case .txn(let request):
            return try applyTxn(request, in: region)
        case .put(let key, let value):
            roundChanges[ByteKey(key)] = .some(value)
            return .ok
        case .delete(let key):
            let existed: Bool
            if let change = roundChanges[ByteKey(key)] {
                existed = change != nil
            } else {
                existed = try withWorkingReader { try $0.exists(key) }
            }
            roundChanges.updateValue(nil, forKey: ByteKey(key))
            return .ok([existed ? "1" : "0"])
        }
    }

    /// A read inside a write submission, from the state as applied so far (this round's changes included).
    private func answerDuringApply(_ request: Request) throws -> Response {
        if case .get(let key) = request, let change = roundChanges[ByteKey(key)] {
            return change.map(Response.value) ?? .notFound
        }
        sealRound()
        return try withWorkingReader { answer(request, from: $0) }
    }

    /// Runs `body` with a reader of the loop's own view: its unflushed layers over a fresh LMDB snapshot.
    /// Any snapshot will do: layers being flushed stay in the view until the loop sees the flush finish.
    private func withWorkingReader<T>(_ body: (AppliedStateReader) throws -> T) throws -> T {
        let layers = working.layers
        return try environment.read { txn in try body(AppliedStateReader(layers: layers, txn: txn)) }
    }

    /// Answers the read-only submissions whose region applied what they wait for.
    func answerWaitingReads() throws {
        guard !waitingReads.isEmpty else { return }
        var still: [(index: UInt64, regionID: UInt64, submission: SubmissionInFlight)] = []
        for waiting in waitingReads {
            if let peer = peers[waiting.regionID], peer.appliedIndex < waiting.index {
                still.append(waiting)
                continue
            }
            sealRound()
            let inFlight = waiting.submission
            try withWorkingReader { reader in
                for (i, request) in inFlight.submission.requests.enumerated() {
                    inFlight.responses[i] = answer(request, from: reader)
                }
            }
            inFlight.partsLeft = 0
            completions.append(inFlight)
        }
        waitingReads = still
    }

    // MARK: - Reading

    /// Answers a request that changes nothing.
    func answer(_ request: Request, from reader: AppliedStateReader) -> Response {
        do {
            switch request {
            case .ping:
                return .pong
            case .hello:
                return .ok(helloWords)
            case .get(let key):
                return try reader.get(key).map(Response.value) ?? .notFound
            case .scan(var scan):
                // Raw scans stop where the transactional key space starts.
                let space = TxnKeys.spaceStart
                if !scan.start.lexicographicallyPrecedes(space) { return .rows([], more: false) }
                if scan.end.isEmpty || space.lexicographicallyPrecedes(scan.end) { scan.end = space }
                let (rows, more) = try reader.scan(scan)
                return .rows(rows, more: more)
            case .txn(let request):
                return try answerTxnRead(request, from: reader)
            case .stats:
                return try stats(reader)
            case .quit:
                return .ok(["bye"])
            case .put, .delete, .split:
                return .error(ProtocolError(.internalError, "a write reached the read path"))
            case .scheduler(.timestamps(let count)):
                return answerTimestamps(count: count)
            case .scheduler(.gcSafePoint):
                return answerSafePoint(raisingTo: nil)
            case .scheduler(.setGCSafePoint(let safePoint)):
                return answerSafePoint(raisingTo: safePoint)
            case .scheduler:
                return .error(ProtocolError(.notSupported, "that is a kvsched command; this is a kvnode"))
            case .raft(let chunk):
                return receive(chunk)
            case .inRegion(let context, let inner):
                // Any thread may answer reads: the regions come from the view the loop publishes each turn.
                let views = regionViews.withLock { $0 }
                guard let region = views[context.regionID] else {
                    return .error(ProtocolError(.regionNotFound, "region \(context.regionID) is not on this store"))
                }
                if let refusal = context.mismatch(with: region, key: inner.key) {
                    return .error(refusal.code == .epochNotMatch
                        ? Self.epochNotMatch(region, context.staleText, regions: Array(views.values)) : refusal)
                }
                switch inner {
                case .txn(let request):
                    return try answerTxnRead(request, from: reader, in: region)  // a scan stops at the region's end
                case .scan(var scan):
                    // Never past the region: beyond it this node's data may belong to a region it does not lead.
                    if !region.endKey.isEmpty, scan.end.isEmpty || region.endKey.lexicographicallyPrecedes(scan.end) {
                        scan.end = region.endKey
                    }
                    return answer(.scan(scan), from: reader)
                default:
                    return answer(inner, from: reader)
                }
            case .fault(let faults):
                return injectFaults(faults)
            }
        } catch {
            return Self.storageError(error)
        }
    }

    private func stats(_ reader: AppliedStateReader) throws -> Response {
        let data = try reader.txn.statistics(of: .default)
        let logSyncs = log.statistics.syncs.load(ordering: .relaxed)
        let lmdbCommits = statistics.lmdbCommits.load(ordering: .relaxed)
        return .ok([
            "keys=\(try reader.keyCount())",
            "bytes=\(data.bytes)",
            "requests=\(serverStatistics.requests.load(ordering: .relaxed))",
            "writes=\(statistics.writes.load(ordering: .relaxed))",
            "connections=\(serverStatistics.connections.load(ordering: .relaxed))",
            "flushes=\(logSyncs + 2 * lmdbCommits)",
            "log_syncs=\(logSyncs)",
            "rounds_without_sync=\(statistics.unsyncedRounds.load(ordering: .relaxed))",
            "applied_before_sync=\(statistics.appliedBeforeSync.load(ordering: .relaxed))",
            "lmdb_commits=\(lmdbCommits)",
            "log_bytes=\(log.statistics.bytesWritten.load(ordering: .relaxed))",
            "log_disk_bytes=\(log.statistics.diskBytes.load(ordering: .relaxed))",
            "log_segments=\(log.statistics.segmentFiles.load(ordering: .relaxed))",
            "applied_index=\(statistics.appliedIndex.load(ordering: .relaxed))",
            "durable_applied_index=\(statistics.durableAppliedIndex.load(ordering: .relaxed))",
            "unflushed_bytes=\(statistics.unflushedBytes.load(ordering: .relaxed))",
            "regions=\(statistics.regions.load(ordering: .relaxed))",
            "snapshots_built=\(statistics.snapshotsBuilt.load(ordering: .relaxed))",
            "snapshots_installed=\(statistics.snapshotsInstalled.load(ordering: .relaxed))",
            "splits=\(statistics.splits.load(ordering: .relaxed))",
            "hibernating=\(statistics.hibernatingRegions.load(ordering: .relaxed))",
            "hibernation_wake_ups=\(statistics.hibernationWakeUps.load(ordering: .relaxed))",
            "map_size=\(environment.mapSize)",
            "uptime_s=\(Int(monotonicSeconds() - startTime))",
        ])
    }
}

// MARK: - NodeService

extension RaftStore: NodeService {
    /// In a cluster, reads wait for ReadIndex in the store loop: only a confirmed leader answers them.
    public var readsNeedConsensus: Bool { cluster != nil }

    /// Answers reads from the published unflushed changes over an LMDB snapshot taken after them (again, in
    /// the rare case that a flush began in between).
    public func read(_ requests: [Request]) -> [Response] {
        // Raft traffic and fault settings act once: never inside the retry loop below.
        if requests.contains(where: \.isNodeControl) {
            return requests.map { request in
                switch request {
                case .raft(let chunk): receive(chunk)
                case .fault(let faults): injectFaults(faults)
                default: read([request])[0]
                }
            }
        }
        // `TMGET 0` takes its timestamp first, before the memory locks are checked and the published state is
        // copied below — as a client asking TSO before reading would.
        func readsAtFreshTimestamp(_ request: Request) -> Bool {
            if case .txn(let txnRequest) = request.withoutContext.request { return txnRequest.readsAtFreshTimestamp }
            return false
        }
        if requests.contains(where: readsAtFreshTimestamp) {
            return requests.map { request in
                let (inner, context) = request.withoutContext
                guard case .txn(let txnRequest) = inner, txnRequest.readsAtFreshTimestamp else { return read([request])[0] }
                do throws(ProtocolError) {
                    let fresh = Request.txn(try withFreshTimestamp(txnRequest))
                    return read([context.map { .inRegion($0, fresh) } ?? fresh])[0]
                } catch {
                    return .error(error)
                }
            }
        }
        // Checked before the published changes are copied: a memory lock found gone was dropped after the
        // round with its commit was published, so the copy below holds the commit.
        // (Raw reads, the hot path, skip this.)
        func blocked(_ request: Request) -> ProtocolError? {
            guard case .txn(let txnRequest) = request.withoutContext.request, txnRequest.readsData else { return nil }
            return waitsForOnePhaseCommit(txnRequest)
        }
        if requests.contains(where: { blocked($0) != nil }) {
            return requests.map { request in blocked(request).map(Response.error) ?? read([request])[0] }
        }
        while true {
            let flushes = flushesBegun.load(ordering: .sequentiallyConsistent)
            let changes = published.withLock { $0 }
            do {
                let answers: [Response]? = try environment.read { txn in
                    guard flushesBegun.load(ordering: .sequentiallyConsistent) == flushes else { return nil }
                    let reader = AppliedStateReader(layers: changes.isEmpty ? [] : changes.layers, txn: txn)
                    return requests.map { answer($0, from: reader) }
                }
                if let answers { return answers }
            } catch {
                return requests.map { _ in Self.storageError(error) }
            }
        }
    }

    /// Queues requests for the store loop. With a submitter's scheduler, the turn that handles them runs on
    /// the submitter's thread once it finished its current work (so all writes of one event-loop turn share a
    /// round) — on the shared write loop instead while the store is busy — if the store is idle by then;
    /// otherwise the store's own thread takes them.
    public func submit(_ submission: WriteSubmission) {
        wakeUp.lock()
        if inbox.stopping {
            wakeUp.unlock()
            submission.complete(submission.requests.map { _ in Self.shuttingDown })
            return
        }
        inbox.submissions.append(submission)
        // An idle store runs the turn on the submitter's own loop (no hand-off); a busy one on the shared write
        // loop, where the writes of every loop gather for the next round.
        let idle = !inbox.loopAwake && !inbox.turnRunning
        let schedule = inbox.turnScheduled
            ? nil : idle ? submission.scheduleOnSubmitter : (submission.scheduleOnWriteLoop ?? submission.scheduleOnSubmitter)
        if schedule != nil { inbox.turnScheduled = true }
        wakeUp.unlock()
        if let schedule {
            schedule { [self] in
                inboxLocked { $0.turnScheduled = false }
                leadOrHandOff()
            }
        } else if submission.scheduleOnSubmitter == nil {
            wakeLoopIfWorkRemains()
        }
    }
}

extension Request {
    /// Whether the request is node-to-node traffic or test control (`RAFT`, `FAULT`), not about data.
    var isNodeControl: Bool {
        switch self {
        case .raft, .fault: true
        default: false
        }
    }
}
