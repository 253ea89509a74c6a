import Raft

/// A seeded, deterministic simulation of a Raft group under faults, checking safety after every step.
///
/// Time advances in ticks. Each tick: faults may start or end (partitions, crashes, restarts), the client
/// proposes entries / membership changes / leader transfers / ReadIndex requests, every node ticks, then
/// messages due are delivered in random order over a few rounds. A node's `Ready` is handled (persist to its
/// `MemoryStorage`, send, apply, advance) right after a step or deferred to a later round, so a crash can
/// lose everything the node had not handed over. After `chaosTicks` everything heals and a new proposal must
/// commit within `livenessBoundTicks`.
///
/// The same seed always produces the same run (the same ``SimulationResult/traceHash``).
public final class Simulator {
    struct InFlight {
        var deliverAt: Int
        var message: Message
    }

    /// The seed of this run.
    public let seed: UInt64
    /// The options of this run.
    public let options: SimulationOptions

    private var random: SimulationRandom
    private var nodes: [UInt64: SimulatedNode] = [:]
    /// Node ids in ascending order: all iteration goes through it so runs are deterministic.
    private var ids: [UInt64] = []
    private var inFlight: [InFlight] = []
    private var now = 0
    private var checker = SafetyChecker()
    private var trace = TraceHasher()
    private var partitionGroup: [UInt64: Int]?
    private var partitionEndsAt = 0
    private var healed = false
    private var nextPayload: UInt64 = 1
    private var nextNodeID: UInt64
    private var pendingReads: [[UInt8]: UInt64] = [:]
    private var nextReadContext: UInt64 = 1
    private var probePayload: [UInt8] = []
    private var probeProposedTerm: UInt64 = 0
    private var probeCommittedAt: Int?
    private var healedAt = 0
    private var appliedConfIndexes: Set<UInt64> = []
    /// Delivery rounds so far (several per tick); leader faults are scheduled in rounds so they can land
    /// between a leader's first appends, which is where commit-rule bugs (Figure 8) show.
    private var round = 0
    /// When each leader was first observed (tick), for the churn of freshly elected leaders.
    private var leaderSince: [UInt64: Int] = [:]

    // Per-seed fault profile.
    private let dropRate: Double
    private let duplicateRate: Double
    private let maxDelay: Int
    private let crashRate: Double
    private let partitionRate: Double
    private let deferReadyRate: Double
    private let proposeRate: Double
    private let confChangeRate: Double
    private let transferRate: Double
    private let readRate: Double
    private let leaderChurnRate: Double
    private let compactThreshold: Int
    private let maxSizePerMessage: Int
    private let maxInflight: Int
    private let preVote: Bool
    private let checkQuorum: Bool
    private let broadcastsCommit: Bool

    private var result: SimulationResult

    /// Creates a simulation.
    ///
    /// - Parameters:
    ///   - seed: determines every random choice.
    ///   - options: what to simulate.
    public init(seed: UInt64, options: SimulationOptions) {
        self.seed = seed
        self.options = options
        var r = SimulationRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 ^ 0xD1B5_4A32_D192_ED03)
        dropRate = r.pick([0, 0.01, 0.05, 0.15])
        duplicateRate = r.pick([0, 0.02, 0.1])
        maxDelay = r.pick([0, 1, 3])
        crashRate = options.crashes ? r.pick([0.005, 0.02, 0.05]) : 0
        partitionRate = options.partitions ? r.pick([0.01, 0.03, 0.08]) : 0
        deferReadyRate = r.pick([0, 0.3, 0.6])
        proposeRate = r.pick([0.2, 0.5, 0.9])
        confChangeRate = options.membershipChanges ? r.pick([0, 0.01, 0.03]) : 0
        transferRate = r.pick([0, 0.005, 0.02])
        readRate = r.pick([0, 0.05, 0.2])
        leaderChurnRate = options.partitions || options.crashes ? r.pick([0.3, 0.6, 0.9]) : 0
        compactThreshold = options.compaction ? r.pick([3, 10, 50]) : Int.max
        maxSizePerMessage = r.pick([1, 1, 64, 1 << 20])
        // One entry per message and one message in flight would make catching up after healing take
        // longer than the liveness bound for long divergent logs: not a bug, just slow, so not combined.
        maxInflight = maxSizePerMessage == 1 ? r.pick([4, 256]) : r.pick([1, 4, 256])
        preVote = r.chance(0.7)
        checkQuorum = r.chance(0.7)
        broadcastsCommit = r.chance(0.5)
        random = r
        nextNodeID = UInt64(options.nodeCount) + 1
        result = SimulationResult(seed: seed, traceHash: 0, violation: nil, messagesSent: 0, committedEntries: 0,
                                  leadersElected: 0, crashes: 0, snapshotsSent: 0, confChangesApplied: 0,
                                  readsChecked: 0, ticksToRecover: 0, events: [])
        let initial = ConfState(voters: (1...UInt64(options.nodeCount)).map { $0 })
        for id in initial.voters {
            addNode(id: id, bootstrap: initial)
        }
    }

    /// Runs one seed.
    ///
    /// - Parameters:
    ///   - seed: the seed.
    ///   - options: what to simulate.
    /// - Returns: the outcome; ``SimulationResult/violation`` is nil if every check passed.
    public static func run(seed: UInt64, options: SimulationOptions) -> SimulationResult {
        Simulator(seed: seed, options: options).run()
    }

    /// Runs the simulation to the end or to the first violation.
    ///
    /// - Returns: the outcome.
    public func run() -> SimulationResult {
        do {
            try runAll()
        } catch let violation as SafetyViolation {
            result.violation = violation
        } catch {
            result.violation = SafetyViolation(property: "unexpected error", detail: "\(error)")
        }
        result.traceHash = trace.value
        result.committedEntries = checker.maxApplied
        return result
    }

    private func runAll() throws {
        while now < options.chaosTicks {
            try runTick()
        }
        heal()
        // Catching up is proportional to the uncommitted backlog (one entry per message in some profiles), so
        // the bound is a fixed allowance for elections plus a per-entry allowance.
        let lastIndexes = liveNodes.compactMap { $0.raft?.lastIndex }
        let backlog = Int((lastIndexes.max() ?? 0) - (liveNodes.compactMap { $0.raft?.committedIndex }.max() ?? 0))
        let bound = options.livenessBoundTicks + options.ticksPerBacklogEntry * max(0, backlog)
        while probeCommittedAt == nil {
            if now - healedAt > bound {
                throw SafetyViolation(property: "liveness",
                                      detail: "no new proposal committed within \(bound) "
                                          + "ticks after healing at tick \(healedAt); \(statusDump())")
            }
            try runTick()
        }
        result.ticksToRecover = (probeCommittedAt ?? now) - healedAt
    }

    private func statusDump() -> String {
        ids.map { id in
            guard let node = nodes[id] else { return "" }
            guard let raft = node.raft else { return "[\(id) down removed=\(node.removed)]" }
            var text = "[\(id) \(raft.role) t\(raft.term) lead \(raft.leader) commit \(raft.committedIndex) "
                + "applied \(raft.appliedIndex) first \(raft.firstIndex) last \(raft.lastIndex) "
                + "voters \(raft.confState.voters) storage \(node.storage.firstIndex())-\(node.storage.lastIndex())"
            for peer in raft.confState.voters {
                if let pr = raft.progress(of: peer) {
                    text += " p\(peer):\(pr.state)/m\(pr.match)/n\(pr.next)/ps\(pr.pendingSnapshot)"
                        + "/probeSent=\(pr.probeSent)"
                        + "/active=\(pr.recentActive)/inflight=\(pr.inflightCount)"
                }
            }
            return text + "]"
        }.joined(separator: " ")
    }

    private func log(_ text: @autoclosure () -> String) {
        if options.recordEvents {
            result.events.append("t\(now) \(text())")
        }
    }

    // MARK: - Nodes

    private func config(for id: UInt64) -> RaftConfig {
        RaftConfig(id: id, electionTick: options.electionTick, heartbeatTick: options.heartbeatTick,
                   maxSizePerMessage: maxSizePerMessage, maxInflightMessages: maxInflight,
                   checkQuorum: checkQuorum, preVote: preVote, broadcastsCommit: broadcastsCommit)
    }

    private func addNode(id: UInt64, bootstrap: ConfState) {
        // Every node, including ones added later, starts knowing the bootstrap membership (as an etcd member
        // is given the initial cluster); later changes come from the log or a snapshot.
        let node = SimulatedNode(id: id, storage: MemoryStorage(confState: bootstrap))
        nodes[id] = node
        ids.append(id)
        ids.sort()
        start(node)
    }

    private func start(_ node: SimulatedNode) {
        node.incarnation += 1
        let rng = SplitMix64(seed: seed ^ (node.id << 40) ^ (node.incarnation << 20))
        // A restarted node knows only what it persisted: its storage. Its state machine restarts from the
        // storage snapshot and replays the committed entries Raft hands back.
        let snapshot = (try? node.storage.snapshot()) ?? Snapshot()
        var config = config(for: node.id)
        config.applied = snapshot.metadata.index
        node.raft = try? RaftNode(config: config, storage: node.storage, random: rng)
        node.stateMachine = SimulatedStateMachine(snapshot: snapshot)
        node.dirty = true
        log("start \(node.id) #\(node.incarnation)")
        trace.mix(0xA0 ^ node.id)
    }

    private func crash(_ node: SimulatedNode) {
        node.raft = nil
        node.dirty = false
        node.restartAt = now + random.int(1...40)
        result.crashes += 1
        log("crash \(node.id)")
        trace.mix(0xC0 ^ node.id)
    }

    private func currentLeader() -> SimulatedNode? {
        var best: SimulatedNode?
        for id in ids {
            guard let node = nodes[id], let raft = node.raft, raft.role == .leader else { continue }
            if best == nil || raft.term > best!.raft!.term { best = node }
        }
        return best
    }

    private var liveNodes: [SimulatedNode] {
        ids.compactMap { nodes[$0] }.filter { $0.isUp }
    }

    // MARK: - Time

    private func runTick() throws {
        now += 1
        if !healed { faultPhase() }
        try restartDue()
        try clientPhase()
        for node in liveNodes {
            // An earlier node's Ready may have removed this one.
            guard let raft = node.raft else { continue }
            raft.tick()
            try afterStep(node)
        }
        for _ in 0..<10 {
            round += 1
            if !healed { try leaderChurn() }
            for node in liveNodes where node.dirty && !random.chance(deferReadyRate) {
                try handleReady(node)
            }
            var due: [InFlight] = []
            var later: [InFlight] = []
            for f in inFlight {
                if f.deliverAt <= now { due.append(f) } else { later.append(f) }
            }
            if due.isEmpty && !liveNodes.contains(where: { $0.dirty }) { break }
            inFlight = later
            random.shuffle(&due)
            for f in due {
                try deliver(f.message)
            }
        }
    }

    private func heal() {
        healed = true
        healedAt = now
        partitionGroup = nil
        for id in ids {
            guard let node = nodes[id], !node.removed, !node.isUp else { continue }
            node.restartAt = now
        }
        log("heal")
        trace.mix(0x4EA1)
    }

    private func restartDue() throws {
        for id in ids {
            guard let node = nodes[id], !node.removed, !node.isUp, node.restartAt <= now else { continue }
            start(node)
            try afterStep(node)
        }
    }

    private func faultPhase() {
        if options.partitions {
            if partitionGroup != nil && now >= partitionEndsAt {
                partitionGroup = nil
                log("partition healed")
                trace.mix(0x9A)
            } else if partitionGroup == nil && random.chance(partitionRate) {
                makePartition()
            }
        }
        if options.crashes && random.chance(crashRate) {
            let candidates = liveNodes
            if !candidates.isEmpty {
                let victim = random.chance(0.5) ? (currentLeader() ?? random.pick(candidates)) : random.pick(candidates)
                crash(victim)
            }
        }
    }

    /// Crashes or isolates leaders a few rounds after their election, as scheduled by `afterStep`. This is
    /// the churn of the paper's Figure 8: leaders that replicate old-term entries partially and vanish.
    private func leaderChurn() throws {
        // Each delivery round, a leader elected within the last election timeout vanishes with a small
        // probability, so over many seeds the fault lands at every point of its first replication rounds.
        guard let leader = currentLeader(), let raft = leader.raft,
              let since = leaderSince[raft.term], now - since <= options.electionTick,
              random.chance(leaderChurnRate / 10)
        else { return }
        if random.chance(0.2) || !options.partitions {
            if options.crashes { crash(leader) }
        } else {
            partitionGroup = [leader.id: 1]
            partitionEndsAt = now + random.int(3...30)
            log("isolate new leader \(leader.id) until t\(partitionEndsAt)")
            trace.mix(0x15 ^ leader.id)
        }
    }

    private func makePartition() {
        let live = ids.filter { !(nodes[$0]?.removed ?? true) }
        guard live.count > 1 else { return }
        var group: [UInt64: Int] = [:]
        switch random.int(0...3) {
        case 0:
            // Isolate the leader: the classic way to get a stale leader and an election in the majority.
            let isolated = currentLeader()?.id ?? random.pick(live)
            group[isolated] = 1
        case 1:
            group[random.pick(live)] = 1
        case 2:
            // The leader keeps one follower; the rest elect another leader.
            if let leader = currentLeader()?.id {
                group[leader] = 1
                group[random.pick(live)] = 1
            }
        default:
            for id in live { group[id] = random.int(0...1) }
        }
        partitionGroup = group
        partitionEndsAt = now + random.int(5...60)
        log("partition \(group.keys.sorted()) vs rest until t\(partitionEndsAt)")
        trace.mix(0x9B ^ UInt64(group.count))
    }

    private func connected(_ a: UInt64, _ b: UInt64) -> Bool {
        guard let group = partitionGroup else { return true }
        return (group[a] ?? 0) == (group[b] ?? 0)
    }

    // MARK: - Client

    private func payload() -> [UInt8] {
        let n = nextPayload
        nextPayload += 1
        return (0..<8).map { UInt8(truncatingIfNeeded: n >> UInt64(8 * $0)) }
    }

    private func clientPhase() throws {
        if healed {
            // Liveness probe: once per leader term, propose a marker entry until one commits.
            if probeCommittedAt == nil, let leader = currentLeader(), let raft = leader.raft,
               raft.term != probeProposedTerm {
                if probePayload.isEmpty { probePayload = [0xFF] + payload() }
                if (try? raft.propose(probePayload)) != nil {
                    probeProposedTerm = raft.term
                    log("probe proposed at \(leader.id) t\(raft.term)")
                }
                try afterStep(leader)
            }
            return
        }
        if random.chance(proposeRate), let leader = currentLeader() {
            let batch = (0..<random.int(1...3)).map { _ in payload() }
            _ = try? leader.raft!.propose(batch: batch)
            try afterStep(leader)
        }
        if random.chance(confChangeRate), let leader = currentLeader() {
            proposeConfChange(leader)
            try afterStep(leader)
        }
        if random.chance(transferRate), let leader = currentLeader() {
            let others = leader.raft!.confState.voters.filter { $0 != leader.id }
            if !others.isEmpty {
                let target = random.pick(others)
                try? leader.raft!.transferLeader(to: target)
                log("transfer \(leader.id) -> \(target)")
                try afterStep(leader)
            }
        }
        if random.chance(readRate) {
            let candidates = liveNodes
            if !candidates.isEmpty {
                let node = random.pick(candidates)
                let context = (0..<8).map { UInt8(truncatingIfNeeded: nextReadContext >> UInt64(8 * $0)) }
                nextReadContext += 1
                if (try? node.raft!.readIndex(context: context)) != nil {
                    // Every write acknowledged so far (applied anywhere) must be visible to this read.
                    pendingReads[context] = checker.maxApplied
                }
                try afterStep(node)
            }
        }
    }

    private func proposeConfChange(_ leader: SimulatedNode) {
        let raft = leader.raft!
        let voters = raft.confState.voters
        let minVoters = max(2, options.nodeCount - 1)
        let maxVoters = options.nodeCount + 1
        let created = UInt64(ids.count)
        let canAdd = voters.count < maxVoters && created < UInt64(options.nodeCount + 4)
        let change: ConfChange
        if canAdd && (voters.count <= minVoters || random.chance(0.5)) {
            change = ConfChange(kind: .addNode, nodeID: nextNodeID)
        } else if voters.count > minVoters {
            change = ConfChange(kind: .removeNode, nodeID: random.pick(voters))
        } else {
            return
        }
        if (try? raft.proposeConfChange(change)) != nil {
            if change.kind == .addNode { nextNodeID += 1 }
            log("propose \(change.kind) \(change.nodeID) at \(leader.id)")
        }
    }

    // MARK: - Steps

    private func deliver(_ m: Message) throws {
        trace.mix(UInt64(m.kind.rawValue) | m.from << 8 | m.to << 16)
        trace.mix(m.term ^ m.index << 20 ^ m.logTerm << 40)
        trace.mix(m.commit ^ UInt64(m.entries.count) << 32 ^ (m.reject ? 1 << 63 : 0))
        guard let target = nodes[m.to], let raft = target.raft, connected(m.from, m.to) else {
            if m.kind == .snapshot { try reportSnapshot(m, failed: true) }
            return
        }
        if options.recordEvents && now > healedAt && healed { log("deliver \(m)") }
        raft.step(m)
        try afterStep(target)
        if m.kind == .snapshot { try reportSnapshot(m, failed: false) }
    }

    private func reportSnapshot(_ m: Message, failed: Bool) throws {
        // The transport knows whether a snapshot stream completed; tell the sender.
        guard let sender = nodes[m.from], let raft = sender.raft else { return }
        raft.reportSnapshot(to: m.to, failed: failed)
        try afterStep(sender)
    }

    /// The checks run after every step of a node.
    private func afterStep(_ node: SimulatedNode) throws {
        guard let raft = node.raft else { return }
        let problems = raft.testOnly_checkInvariants()
        if !problems.isEmpty {
            throw SafetyViolation(property: "node invariants", detail: "node \(node.id): \(problems)")
        }
        if try checker.checkElectionSafety(id: node.id, node: raft) {
            result.leadersElected += 1
            log("leader \(node.id) term \(raft.term) last \(raft.lastIndex)")
            try checker.checkLeaderCompleteness(id: node.id, node: raft)
            leaderSince[raft.term] = now
        }
        node.dirty = true
        if !random.chance(deferReadyRate) {
            try handleReady(node)
        }
    }

    /// Follows the `Ready` contract: persist, send, apply, advance.
    private func handleReady(_ node: SimulatedNode) throws {
        guard let raft = node.raft else { return }
        node.dirty = false
        guard raft.hasReady() else { return }
        let rd = raft.ready()
        trace.mix(node.id ^ UInt64(rd.entries.count) << 8 ^ UInt64(rd.committedEntries.count) << 24)

        // 1. Persist.
        try checker.checkLogMatching(id: node.id, newEntries: rd.entries, node: raft)
        if let snapshot = rd.snapshot {
            try node.storage.applySnapshot(snapshot)
        }
        try node.storage.append(rd.entries)
        if let hardState = rd.hardState {
            node.storage.setHardState(hardState)
        }

        // 2. Send.
        for m in rd.messages {
            send(m)
        }

        // 3. Apply.
        var removedIDs: [UInt64] = []
        if let snapshot = rd.snapshot {
            try checker.checkRestore(id: node.id, snapshot: snapshot, before: node.stateMachine)
            node.stateMachine = SimulatedStateMachine(snapshot: snapshot)
            log("node \(node.id) restored snapshot \(snapshot.metadata.index)")
        }
        for entry in rd.committedEntries {
            let before = node.stateMachine
            node.stateMachine.apply(entry)
            try checker.checkApply(id: node.id, entry: entry, before: before, after: node.stateMachine)
            if entry.data == probePayload && probeCommittedAt == nil {
                probeCommittedAt = now
            }
            if entry.kind == .confChange {
                let change = try ConfChange(decoding: entry.data)
                node.stateMachine.confState = raft.applyConfChange(change)
                if appliedConfIndexes.insert(entry.index).inserted {
                    result.confChangesApplied += 1
                    log("conf change \(change.kind) \(change.nodeID) applied at index \(entry.index)")
                }
                switch change.kind {
                case .addNode where nodes[change.nodeID] == nil:
                    addNode(id: change.nodeID, bootstrap: ConfState(voters: (1...UInt64(options.nodeCount)).map { $0 }))
                case .removeNode:
                    removedIDs.append(change.nodeID)
                default:
                    break
                }
            }
        }
        for readState in rd.readStates {
            if let required = pendingReads.removeValue(forKey: readState.context) {
                if readState.index < required {
                    throw SafetyViolation(
                        property: "linearizable read",
                        detail: "node \(node.id) read index \(readState.index) < acknowledged write \(required)")
                }
                result.readsChecked += 1
            }
        }
        raft.advance(rd)

        // Compaction: snapshot the state machine and drop the log prefix, as a raftstore's log GC would. Like
        // TiKV's GC, a leader keeps what its followers still need unless one lags too far behind; a follower
        // that far behind (or one that was down) then needs a snapshot.
        let sm = node.stateMachine
        if sm.applied >= node.storage.firstIndex() + UInt64(compactThreshold), sm.applied <= node.storage.lastIndex() {
            let keep = min(UInt64(random.int(0...compactThreshold / 2)), sm.applied - (node.storage.firstIndex() - 1))
            var upTo = sm.applied - keep
            if raft.role == .leader {
                let minMatch = raft.confState.voters.compactMap { raft.progress(of: $0)?.match }.min() ?? upTo
                if minMatch + UInt64(4 * compactThreshold) >= upTo { upTo = min(upTo, minMatch) }
            }
            if upTo >= node.storage.firstIndex() {
                try node.storage.createSnapshot(index: sm.applied, confState: sm.confState, data: sm.snapshotData)
                try node.storage.compact(upTo: upTo)
            }
        }

        // A committed removal shuts the removed node down for good, as a raftstore destroys the peer.
        for id in removedIDs {
            guard let removed = nodes[id], !removed.removed else { continue }
            removed.removed = true
            removed.raft = nil
            removed.dirty = false
            log("node \(id) removed and shut down")
        }
    }

    private func send(_ m: Message) {
        result.messagesSent += 1
        if m.kind == .snapshot { result.snapshotsSent += 1 }
        if !healed && random.chance(dropRate) {
            if m.kind == .snapshot, let sender = nodes[m.from]?.raft {
                sender.reportSnapshot(to: m.to, failed: true)
            }
            return
        }
        inFlight.append(InFlight(deliverAt: now + random.int(0...maxDelay), message: m))
        if !healed && random.chance(duplicateRate) {
            inFlight.append(InFlight(deliverAt: now + random.int(0...maxDelay), message: m))
        }
    }
}
