import KVEngine
import KVProtocol
import KVServer
import LogEngine
import Raft
import Txn

// The store loop. Loop-owned state is guarded by `storeLock`; whoever holds it runs a *turn*: take what the
// inbox holds, tick when due, propose the new writes, and run rounds of Ready handling until no peer has more.
//
// The dedicated loop thread runs turns when woken (work it can take, a tick or a flush due). When the store is
// idle, the network thread that submitted a write runs the turn itself, at the end of its event-loop turn (so
// all the writes it read share the round): that saves two thread hand-offs on the critical path, and on these
// 2-vCPU VMs waking a sleeping thread costs ~30 us each way (storebench: 97 us per write with the hand-offs,
// 11 us without, log on tmpfs). A submitter that finds the store busy leaves its work to the loop thread, and
// whoever ends a turn with work left wakes it, so nothing is stranded.

extension RaftStore {
    func runLoop() {
        let tick = Double(options.tickMilliseconds) / 1000
        var nextTick = monotonicSeconds() + tick
        var flushDue = Double.infinity
        while true {
            // Sleep unless there is work; a waker sets the condition only while we are not awake.
            wakeUp.lock()
            if !inbox.hasTakeableWork {
                inbox.loopAwake = false
                wakeUp.unlock()
                let wait = max(0, min(nextTick, flushDue) - monotonicSeconds())
                if !wakeUp.lock(whenValue: true, timeoutSeconds: wait) { wakeUp.lock() }
                inbox.loopAwake = true
                wakeUp.unlock(withValue: false)
            } else {
                wakeUp.unlock()
            }
            let tickDue = monotonicSeconds() >= nextTick
            if tickDue { nextTick = monotonicSeconds() + tick }
            let (idle, due, done) = storeLock.withLock { _ in
                let stopping = turn(tickDue: tickDue)
                return (stopping && isIdle(), nextFlushDue(), takeCompletions())
            }
            complete(done)
            flushDue = due
            if idle { break }
        }
        loopFinishedSignal()
    }

    /// One turn: inbox, tick, proposals, Readies, flush. Call with `storeLock` held.
    ///
    /// - Returns: Whether the store is stopping.
    @discardableResult
    func turn(tickDue: Bool) -> Bool {
        inboxLocked { $0.turnRunning = true }
        defer { inboxLocked { $0.turnRunning = false } }
        let (submissions, events, stopping) = takeWork()
        if tickDue {
            for peer in peers.values where !peer.isHibernating {
                peer.node.tick()
                activeRegions.insert(peer.region.id)
            }
        }
        for event in events { handle(event) }
        for submission in submissions { propose(submission) }
        issueReadIndexes()
        processReadies()
        if tickDue && cluster != nil { advanceHibernation() }
        if cluster != nil {
            expireReadIndexRequests()
            dropRemovedPeers()
            scheduleSplitChecks()
            // What heartbeats and STATS report: fresh enough once a tick, or when the regions changed.
            if tickDue || regionsChanged { refreshLeadership() }
        }
        scheduleGarbageCollection()
        if regionsChanged {
            regionsChanged = false
            publishRegionViews()
        }
        if !waitingReads.isEmpty && failure == nil {
            // Reads queued behind writes that had already applied when they came in: nothing else would answer
            // them until the next write.
            do {
                try answerWaitingReads()
            } catch {
                fail(RaftStoreError(.storageFailed, "reading the applied state failed: \(error)"))
            }
        }
        if stopping && !deferredHardStates.isEmpty && failure == nil {
            try? writeLog(LogBatch())  // a clean stop leaves the log's commit indexes current
        }
        maybeFlush(force: stopping && options.flushOnStop)
        markReadyWhenLeading()
        let blocked = failure == nil && working.byteCount >= options.maxUnflushedBytes
        activeRegions = activeRegions.filter { peers[$0]?.node.hasReady() ?? false }
        let readyLeft = failure == nil && !activeRegions.isEmpty
        inboxLocked { inbox in
            inbox.blocked = blocked
            inbox.readyLeft = readyLeft
            if stopping { inbox.stopSeen = true }
        }
        return stopping
    }

    /// Runs a turn on the calling thread if the store is idle (its loop thread asleep and nobody in a turn),
    /// then makes sure leftover work reaches the loop thread.
    ///
    /// Under load the loop thread stays awake and takes every event loop's submissions together, one round
    /// each log sync; leading from a network thread then would split the writers into groups that take turns
    /// at the disk.
    func leadOrHandOff() {
        let loopAsleep = inboxLocked { !$0.loopAwake }
        let done = loopAsleep
            ? storeLock.withLockIfAvailable { _ in
                turn(tickDue: false)
                return takeCompletions()
            } : nil
        wakeLoopIfWorkRemains()
        if let done { complete(done) }
    }

    /// The submissions answered since the last call. Call with `storeLock` held; answer them after releasing
    /// it, so that the next round's log write overlaps the sending of these answers (except those answered
    /// before a round's log write, see `applyDurableCommittedEntries`, which go at once).
    func takeCompletions() -> [SubmissionInFlight] {
        defer { completions = [] }
        return completions
    }

    func complete(_ submissions: [SubmissionInFlight]) {
        for submission in submissions { submission.complete() }
    }

    /// Wakes the loop thread if the inbox holds work it can take and the thread is asleep.
    func wakeLoopIfWorkRemains() {
        wakeUp.lock()
        if inbox.hasTakeableWork && !inbox.loopAwake {
            inbox.loopAwake = true
            wakeUp.unlock(withValue: true)
        } else {
            wakeUp.unlock()
        }
    }

    private func loopFinishedSignal() {
        // Anything still queued (a failed store, or writes that came in while stopping) gets an answer.
        let leftovers = inboxLocked { inbox -> [WriteSubmission] in
            defer { inbox.submissions = [] }
            return inbox.submissions
        }
        let failed = storeLock.withLock { _ in failure != nil }
        for submission in leftovers {
            submission.complete(submission.requests.map { _ in failed ? storageFailureResponseLocked : Self.shuttingDown })
        }
        finishLoop()
    }

    /// Takes the events and, unless too much is unflushed, the submissions that fit in one round.
    private func takeWork() -> (submissions: [WriteSubmission], events: [StoreEvent], stopping: Bool) {
        let blocked = failure == nil && working.byteCount >= options.maxUnflushedBytes
        return inboxLocked { inbox in
            let events = inbox.events
            inbox.events = []
            var taken: [WriteSubmission] = []
            if blocked && !inbox.submissions.isEmpty {
                statistics.backPressureRounds.add(1, ordering: .relaxed)
            } else if !blocked {
                var bytes = 0
                var count = 0
                while count < inbox.submissions.count && (count == 0 || bytes < options.maxRoundBytes) && count < 4096 {
                    bytes += inbox.submissions[count].requests.reduce(0) { $0 + $1.writeBytes }
                    count += 1
                }
                taken = Array(inbox.submissions.prefix(count))
                inbox.submissions.removeFirst(count)
            }
            inbox.blocked = blocked
            return (taken, events, inbox.stopping)
        }
    }

    /// When the next flush is due, if applied writes are waiting (or a failed flush is to be retried).
    private func nextFlushDue() -> Double {
        if let flushRetryAt { return flushRetryAt }
        guard flush == nil, !working.active.isEmpty else { return .infinity }
        return lastFlushStart + Double(options.flushMilliseconds) / 1000
    }

    private func isIdle() -> Bool {
        let inboxEmpty = inboxLocked { $0.submissions.isEmpty && $0.events.isEmpty }
        let proposalsPending = peers.values.contains { $0.proposalsHead < $0.proposals.count } || !waitingReads.isEmpty
        let flushPending = !flushAbandoned
            && (flush != nil || (options.flushOnStop && !working.active.isEmpty && failure == nil))
        return inboxEmpty && (failure != nil || (!proposalsPending && !flushPending))
    }

    /// Publishes the regions for readers on other threads, when they changed.
    private func publishRegionViews() {
        let current = regionViews.withLock { $0 }
        guard current.count != peers.count || peers.values.contains(where: { current[$0.region.id] != $0.region }) else { return }
        let views = peers.mapValues(\.region)
        regionViews.withLock { $0 = views }
    }

    private func markReadyWhenLeading() {
        guard !inboxLocked({ $0.ready }) else { return }
        let allLed = peers.values.allSatisfy { $0.node.leader != 0 && $0.appliedIndex >= $0.node.committedIndex }
        if allLed { inboxLocked { $0.ready = true } }
    }

    // MARK: - Proposing

    /// Turns a submission into Raft entries of its region (several, if its writes exceed
    /// ``RaftStoreOptions/maxEntryBytes``), or queues it behind earlier writes if it only reads.
    func propose(_ submission: WriteSubmission) {
        if failure != nil {
            answerAll(submission, storageFailureResponse)
            return
        }
        var submission = submission
        var requests = submission.requests
        for request in requests {
            // A prewrite below the GC safe point could miss conflicts whose records were collected.
            if case .txn(let txnRequest) = request.withoutContext.request, let refusal = tooOld(txnRequest) {
                answerAll(submission, .error(refusal))
                return
            }
        }
        guard requests.contains(where: { $0.key != nil || $0.isWrite }) else {
            // Nothing about data (PING, STATS, RAFT ... queued behind an earlier write): no region involved.
            answerAll(submission, .error(ProtocolError(.internalError, "unanswered")))
            return
        }
        // The region the client named, else the one here holding the first key.
        let firstKey = requests.lazy.compactMap(\.key).first ?? []
        let named = requests.lazy.compactMap(\.withoutContext.context).first
        let found = named.map { peers[$0.regionID] } ?? peers.values.first { $0.isInitialized && $0.region.contains(firstKey) }
        guard let peer = found else {
            answerAll(submission, .error(named.map { ProtocolError(.regionNotFound, "region \($0.regionID) is not on this store") }
                ?? ProtocolError(.keyNotInRegion, "no region here holds the key")))
            return
        }
        for request in requests {
            guard case .inRegion(let context, let inner) = request else { continue }
            let refusal: ProtocolError? = context.regionID != peer.region.id
                ? ProtocolError(.keyNotInRegion, "the requests name several regions; send them separately")
                : context.mismatch(with: peer.region, key: inner.key)
            if let refusal {
                answerAll(submission, .error(refusal.code == .epochNotMatch ? epochNotMatch(peer.region, context.staleText) : refusal))
                return
            }
        }
        if requests.contains(where: { !$0.keysLie(in: peer.region) }) {
            answerAll(submission, .error(ProtocolError(.keyNotInRegion, "the requests span several regions; send them separately")))
            return
        }
        peer.wake()
        activeRegions.insert(peer.region.id)
        guard peer.node.role == .leader else {
            answerAll(submission, cluster == nil
                ? .error(ProtocolError(.notLeader, "region \(peer.region.id) has no leader here yet; retry"))
                : notLeaderResponse(peer))
            return
        }
        if case .split(let key) = requests.first(where: \.isSplit)?.withoutContext.request {
            guard requests.count == 1 else {
                answerAll(submission, .error(ProtocolError(.badArgument, "SPLIT goes alone: send it without other requests pipelined with it")))
                return
            }
            // In the transactional key space, only between user keys (all records of a key stay together).
            beginSplit(submission, key: TxnKeys.splitBoundary(key), peer: peer)
            return
        }
        guard requests.contains(where: \.isWrite) else {
            _ = try? assignTimestamps(&submission)  // reads only: `TMGET 0`'s, which cannot fail
            if cluster != nil && peer.region.peers.count > 1 {
                requestReadIndex(SubmissionInFlight(submission, parts: 1), peer: peer)
            } else {
                waitingReads.append((peer.node.lastIndex, peer.region.id, SubmissionInFlight(submission, parts: 1)))
            }
            return
        }
        // Last before proposing, so that no refusal above leaves a memory lock behind.
        let memoryLocksTaken: [MemoryLock]
        do {
            memoryLocksTaken = try assignTimestamps(&submission)
        } catch {
            answerAll(submission, .error(error))
            return
        }
        requests = submission.requests
        var parts: [(requests: Range<Int>, operations: [WriteCommand.Operation])] = []
        var start = 0
        var operations: [WriteCommand.Operation] = []
        var bytes = 0
        for (i, request) in requests.enumerated() {
            guard let operation = request.writeOperation else { continue }
            let size = WriteCommand.encodedSize(operation)
            if !operations.isEmpty && bytes + size > options.maxEntryBytes {
                parts.append((start..<i, operations))
                start = i
                operations = []
                bytes = 0
            }
            operations.append(operation)
            bytes += size
        }
        parts.append((start..<requests.count, operations))
        let payloads = parts.map { WriteCommand(regionID: peer.region.id, epoch: peer.region.epoch, operations: $0.operations).encoded() }
        let inFlight = SubmissionInFlight(submission, parts: parts.count)
        do {
            let last = try peer.node.propose(batch: payloads)
            let term = peer.node.term
            for (k, part) in parts.enumerated() {
                let index = last - UInt64(parts.count - 1 - k)
                peer.proposals.append(Proposal(index: index, term: term, submission: inFlight, requests: part.requests))
            }
            statistics.proposals.add(parts.count, ordering: .relaxed)
        } catch {
            releaseMemoryLocks(memoryLocksTaken)
            answerAll(submission, .error(ProtocolError(.notLeader, "region \(peer.region.id) cannot take proposals here: \(error)")))
        }
    }

    /// Answers every request of a submission with `response` — except those about no key (`PING`, `STATS`,
    /// `RAFT` ...), which get their own answers — once the turn has released the store lock.
    private func answerAll(_ submission: WriteSubmission, _ response: Response) {
        let inFlight = SubmissionInFlight(submission, parts: 1)
        for (i, request) in submission.requests.enumerated() where request.key == nil && !request.isWrite {
            inFlight.responses[i] = (try? environment.read { txn in
                answer(request, from: AppliedStateReader(layers: working.layers, txn: txn))
            }) ?? Self.storageError(RaftStoreError(.storageFailed, "reading the applied state failed"))
        }
        inFlight.fail(response)
        completions.append(inFlight)
    }

    // MARK: - Ready

    /// Persists, applies and acknowledges every peer's `Ready`, in rounds: one log write (one `fdatasync`) per
    /// round for all peers together, then apply, then answers, then `advance`.
    func processReadies() {
        var rounds = 0
        while failure == nil && rounds < 16 {
            let ready = activeRegions.count == 1
                ? activeRegions.compactMap { peers[$0] }.filter { $0.node.hasReady() }
                : activeRegions.sorted().compactMap { peers[$0] }.filter { $0.node.hasReady() }
            guard !ready.isEmpty else { return }
            rounds += 1
            var batch = LogBatch()
            var readies: [(Peer, Ready)] = []
            // etcd's MustSync: only entries, a snapshot or a new term or vote need a synced log write before
            // anything goes on. A hard state that only moved the commit index may be lost in a crash (the
            // entries it covers are durable on a majority, which re-learns it): it waits for the next write,
            // so a round of acknowledgements and heartbeats costs no fdatasync. (Waiting, not writing without
            // a sync: unsynced bytes could reach the disk out of order and look like corruption.) A round that
            // syncs writes its own hard states after its entries (see `writeLog`).
            var mustSync = false
            for peer in ready {
                let rd = peer.node.ready()
                if let snapshot = rd.snapshot, !snapshot.isEmpty {
                    guard runOrFail("installing a snapshot of region \(peer.region.id)", {
                        try installSnapshot(snapshot, on: peer, batch: &batch)
                    }) else { return }
                }
                batch.append(region: peer.region.id, entries: rd.entries)
                if let state = rd.hardState {
                    let written = log.hardState(of: peer.region.id)
                    if written?.term != state.term || written?.vote != state.vote { mustSync = true }
                    deferredHardStates[peer.region.id] = state
                }
                if !rd.entries.isEmpty || !(rd.snapshot?.isEmpty ?? true) { mustSync = true }
                readies.append((peer, rd))
            }
            if !mustSync {
                statistics.unsyncedRounds.add(1, ordering: .relaxed)
            } else {
                guard runOrFail("applying committed entries", { try applyDurableCommittedEntries(readies) }) else {
                    return
                }
                addCompactions(to: &batch)
                do {
                    try writeLog(batch)
                    statistics.rounds.add(1, ordering: .relaxed)
                } catch {
                    fail(RaftStoreError(.storageFailed, "writing the log failed: \(error)"))
                    return
                }
            }
            // Persist before send: messages leave only once this round's log write is durable.
            send(readies)
            let applied = runOrFail("applying committed entries") {
                for (peer, rd) in readies {
                    try apply(rd.committedEntries, to: peer)
                    if !rd.readStates.isEmpty { handleReadStates(rd.readStates) }
                }
                try answerWaitingReads()
            }
            guard applied else { return }
            publish()
            for (peer, rd) in readies {
                peer.node.advance(rd)
                if let failure = peer.storage.failure {
                    fail(RaftStoreError(.storageFailed, "reading the log failed: \(failure.message)"))
                    return
                }
                if let soft = rd.softState, soft.role != .leader { dropProposals(of: peer) }
            }
        }
    }

    /// Runs `body`; if it throws, fails the store with the error (a ``RaftStoreError`` as it is, anything
    /// else as `storageFailed`: "`what` failed: ...").
    ///
    /// - Returns: Whether `body` finished.
    private func runOrFail(_ what: String, _ body: () throws -> Void) -> Bool {
        do {
            try body()
            return true
        } catch let error as RaftStoreError {
            fail(error)
        } catch {
            fail(RaftStoreError(.storageFailed, "\(what) failed: \(error)"))
        }
        return false
    }

    /// Applies and answers, before a round's log write, the committed entries that this node's log already
    /// holds durably: those before the round's new entries (written and synced in earlier rounds). They are
    /// committed — durable on a majority, this node included — so neither their effect nor their answers
    /// depend on the round's write; and the applied index that a later flush records in LMDB never passes
    /// what the log holds. The clients get their answers a sync sooner (README has the measurements). Stops
    /// at a membership change or a split (they reshape peers and regions; they apply after the write, in
    /// order). A standalone node (one voter) is untouched: its entries commit in the Ready that writes them.
    private func applyDurableCommittedEntries(_ readies: [(Peer, Ready)]) throws {
        var applied = 0
        for (peer, rd) in readies where rd.snapshot?.isEmpty ?? true {
            let durable = rd.entries.first.map { $0.index - 1 } ?? UInt64.max
            let early = rd.committedEntries.prefix { entry in
                entry.index <= durable && entry.kind == .normal && !SplitCommand.isSplit(entry.data)
            }
            let before = peer.appliedIndex
            guard let last = early.last, last.index > before else { continue }
            try apply(Array(early), to: peer)
            applied += Int(peer.appliedIndex - before)
        }
        guard applied > 0 else { return }
        statistics.appliedBeforeSync.add(applied, ordering: .relaxed)
        publish()
        // Answered now, while the round's log write is still to come (not at the end of the turn).
        complete(takeCompletions())
    }

    /// Writes `batch` to the log (one fdatasync), followed by the deferred hard states of the regions still
    /// here. After, not before: the log may split a large batch into several synced ones, and a hard state
    /// must never become durable ahead of the entries its commit index covers (nor, after a snapshot's
    /// `reset`, ahead of the reset). A region the batch itself gives a hard state (a destroyed peer, a new
    /// region) keeps the batch's: its deferred one is older and dropped.
    func writeLog(_ batch: LogBatch) throws {
        guard !deferredHardStates.isEmpty else {
            try log.write(batch)
            return
        }
        var full = batch
        var decided = Set<UInt64>()
        for record in batch.records {
            if case .hardState(let region, _) = record { decided.insert(region) }
        }
        for (region, state) in deferredHardStates.sorted(by: { $0.key < $1.key })
        where peers[region] != nil && !decided.contains(region) {
            full.setHardState(region: region, state)
        }
        deferredHardStates = [:]
        try log.write(full)
    }

    /// How far a peer's log may be compacted once LMDB holds `durable`: a leader keeps the entries its
    /// followers still need (so a short absence is repaired from the log, not by a snapshot), unless a
    /// follower lags by more than ``RaftStoreOptions/maxLogLagEntries`` — it gets a snapshot instead, and the
    /// log stays bounded.
    func logGarbageCollectionPoint(_ peer: Peer, durable: UInt64) -> UInt64 {
        guard cluster != nil, peer.node.role == .leader else { return durable }
        var point = durable
        for voter in peer.node.confState.voters where voter != peer.peerID {
            guard let progress = peer.node.progress(of: voter) else { continue }
            let needed = progress.match
            if durable > needed && durable - needed <= UInt64(options.maxLogLagEntries) {
                point = min(point, needed)
            }
        }
        return point
    }

    /// Compaction points that LMDB now holds durably, written along with the next log batch.
    private func addCompactions(to batch: inout LogBatch) {
        for region in compactionDue {
            guard let peer = peers[region] else {
                compactionDue.remove(region)
                continue
            }
            guard peer.compactTo > log.compactionPoint(of: region).index else {
                compactionDue.remove(region)
                continue
            }
            guard let term = try? log.term(of: region, at: peer.compactTo) else { continue }
            batch.compact(region: region, upTo: peer.compactTo, term: term)
            compactionDue.remove(region)
        }
    }

    /// A peer that lost leadership answers its waiting proposals: a new leader may overwrite them.
    private func dropProposals(of peer: Peer) {
        for proposal in peer.takeAllProposals() where proposal.submission.partsLeft > 0 {
            proposal.submission.fail(.error(ProtocolError(.outcomeUnknown, "leadership changed before the write applied; it may or may not apply")))
            completions.append(proposal.submission)
        }
    }

    /// Makes the round's changes visible to readers.
    func publish() {
        sealRound()
        let changes = working
        published.withLock { $0 = changes }
        releaseMemoryLocks()
        let bytes = changes.byteCount
        statistics.unflushedBytes.store(bytes, ordering: .relaxed)
        if bytes > statistics.peakUnflushedBytes.load(ordering: .relaxed) {
            statistics.peakUnflushedBytes.store(bytes, ordering: .relaxed)
        }
    }

    /// Turns the round's changes into a layer, so that scans (which need order) see them.
    func sealRound() {
        guard !roundChanges.isEmpty else { return }
        working.push(ChangeLayer(changes: roundChanges))
        roundChanges = [:]
    }

    // MARK: - Flushing to LMDB

    /// Starts moving the applied writes into LMDB when enough are waiting, enough time passed, or the store is
    /// stopping; retries a failed flush after a pause.
    func maybeFlush(force: Bool) {
        let now = monotonicSeconds()
        if let retry = flushRetryAt, now >= retry, flush != nil {
            flushRetryAt = nil
            startFlushJob()
            return
        }
        guard flush == nil, !working.active.isEmpty, failure == nil else { return }
        guard force || working.activeBytes >= options.flushBytes
            || now - lastFlushStart >= Double(options.flushMilliseconds) / 1000
        else { return }
        flushesBegun.add(1, ordering: .sequentiallyConsistent)
        let layers = working.beginFlush()
        publish()
        flush = FlushJob(layers: layers, applied: peers.mapValues(\.appliedIndex))
        lastFlushStart = now
        startFlushJob()
    }

    private func startFlushJob() {
        guard let job = flush else { return }
        flushQueue.async { [self] in
            let result = Result<Void, any Error> {
                try environment.write { txn in
                    for layer in job.layers {
                        for i in 0..<layer.count {
                            if let value = layer.values[i] {
                                try txn.put(value, for: layer.keys[i])
                            } else {
                                try txn.delete(layer.keys[i])
                            }
                        }
                    }
                    for (region, index) in job.applied {
                        try txn.put(MetaKeys.bigEndian(index), for: MetaKeys.applied(region), in: .meta)
                    }
                }
            }
            inboxLocked { $0.events.append(.flushFinished(result)) }
            wakeLoopIfWorkRemains()
        }
    }

    private func handle(_ event: StoreEvent) {
        switch event {
        case .flushFinished:
            handleFlushEvent(event)
        case .raftMessages(let envelopes):
            handleRaftMessages(envelopes)
        case .unreachable(let store):
            for peer in peers.values {
                for member in peer.region.peers where member.storeID == store {
                    peer.node.reportUnreachable(member.id)
                    activeRegions.insert(peer.region.id)
                }
            }
        case .snapshotReported(let region, let peerID, let failed):
            peers[region]?.node.reportSnapshot(to: peerID, failed: failed)
            activeRegions.insert(region)
        case .regionOperator(let regionOperator):
            handle(regionOperator)
        case .splitReady(let result, let inFlight):
            handleSplitReady(result, inFlight)
        case .splitCheckFinished(let result):
            handleSplitCheck(result)
        }
    }

    func handleFlushEvent(_ event: StoreEvent) {
        switch event {
        case .flushFinished(.success):
            guard let job = flush else { return }
            flush = nil
            working.endFlush()
            publish()
            statistics.lmdbCommits.add(1, ordering: .relaxed)
            for (region, index) in job.applied {
                guard let peer = peers[region] else { continue }
                peer.durableAppliedIndex = index
                let point = logGarbageCollectionPoint(peer, durable: index)
                if point > peer.compactTo {
                    peer.compactTo = point
                    compactionDue.insert(region)
                }
                if region == firstRegionID { statistics.durableAppliedIndex.store(index, ordering: .relaxed) }
            }
        case .flushFinished(.failure(let error)):
            if inboxLocked({ $0.stopping }) {
                // Stopping: the writes are in the log and the next start replays them.
                logger.error("flushing applied writes to LMDB failed while stopping; the next start replays them: \(error)")
                flushAbandoned = true
                return
            }
            // The writes stay applied in memory and durable in the log; try again shortly. New writes wait
            // once too much is unflushed.
            logger.error("flushing applied writes to LMDB failed; retrying in 1 s: \(error)")
            flushRetryAt = monotonicSeconds() + 1
        default:
            break
        }
    }

    private func finishLoop() {
        loopFinished.lock()
        loopFinished.unlock(withValue: true)
    }
}

extension Request {
    /// The key a request is about, if any.
    var key: [UInt8]? {
        switch self {
        case .get(let key), .put(let key, _), .delete(let key), .split(let key): key
        case .scan(let scan): scan.start
        case .txn(let request): request.keys.first.map(TxnKeys.base)
        case .inRegion(_, let request): request.key
        default: nil
        }
    }

    /// Whether every key it is about lies in `region`, as stored (a transactional request's keys in the
    /// transactional key space; a scan's start).
    func keysLie(in region: Region) -> Bool {
        switch self {
        case .txn(let request): request.keys.allSatisfy { region.contains(TxnKeys.base($0)) }
        case .inRegion(_, let request): request.keysLie(in: region)
        default: key.map(region.contains) ?? true
        }
    }

    /// Whether it is a `SPLIT` (with or without a region context).
    var isSplit: Bool {
        if case .split = withoutContext.request { return true }
        return false
    }

    /// The change a write makes, or nil for a request that only reads.
    var writeOperation: WriteCommand.Operation? {
        switch self {
        case .put(let key, let value): .put(key: key, value: value)
        case .delete(let key): .delete(key: key)
        case .txn(let request) where !request.readsData: .txn(request)
        case .inRegion(_, let request): request.writeOperation
        default: nil
        }
    }

    /// Bytes a write carries, to size rounds.
    var writeBytes: Int {
        switch self {
        case .put(let key, let value): key.count + value.count
        case .delete(let key): key.count
        case .txn(let request) where !request.readsData: request.keys.reduce(0) { $0 + $1.count } + request.valueBytes
        case .inRegion(_, let request): request.writeBytes
        default: 0
        }
    }
}
