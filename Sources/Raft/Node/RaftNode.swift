/// One member of a Raft group, as a deterministic state machine.
///
/// The node performs no I/O and reads no clock. The caller drives it:
///
/// - ``tick()`` at a fixed interval (logical time: election and heartbeat timeouts are counted in ticks);
/// - ``step(_:)`` with every message received from a peer;
/// - ``propose(_:)``, ``proposeConfChange(_:)``, ``readIndex(context:)``, ``transferLeader(to:)`` for
///   client requests;
/// - then, whenever ``hasReady()`` is true, ``ready()`` → persist / send / apply → ``advance(_:)`` as
///   documented on ``Ready``.
///
/// The node reads its persisted log through a ``Storage`` that the caller writes. It is not thread-safe:
/// one owner (the store loop) calls it.
///
/// ```swift
/// let storage = MemoryStorage(confState: ConfState(voters: [1, 2, 3]))
/// let node = try RaftNode(config: RaftConfig(id: 1), storage: storage)
/// node.tick()                       // every N milliseconds
/// node.step(messageFromPeer)        // for each received message
/// let index = try node.propose(bytes)
/// ```
public final class RaftNode {
    /// This node's id.
    public let id: UInt64
    /// The configuration this node was created with.
    public let config: RaftConfig
    /// Current term (durable: part of ``HardState``).
    public internal(set) var term: UInt64 = 0
    /// Node voted for in ``term``, or 0 (durable).
    public internal(set) var vote: UInt64 = 0
    /// Current role.
    public internal(set) var role: StateRole = .follower
    /// Leader known in ``term``, or 0.
    public internal(set) var leader: UInt64 = 0

    var raftLog: RaftLog
    var tracker: ProgressTracker
    /// Outbox: recorded here, handed to the caller in the next Ready.
    var messages: [Message] = []
    var readStates: [ReadState] = []
    var readOnly = ReadOnlyQueue()
    /// ReadIndex requests that arrived before this leader committed an entry of its term; answering them
    /// earlier could return a stale commit index (thesis §6.4 step 1).
    var pendingReadRequests: [(from: UInt64, context: [UInt8])] = []

    /// Ticks since the last election timeout reset (follower/candidate) or check-quorum round (leader).
    var electionElapsed = 0
    /// Ticks since the last heartbeat (leader only).
    var heartbeatElapsed = 0
    /// Current randomized election timeout, in `[electionTick, 2 * electionTick)`.
    var randomizedElectionTimeout = 0
    /// Target of an ongoing leader transfer, or 0. Invariant: 0 unless leader.
    var leadTransferee: UInt64 = 0
    /// Index of the latest conf change proposed by this leader; a new one may be proposed only once
    /// `applied >= pendingConfIndex`.
    var pendingConfIndex: UInt64 = 0
    var random: any RandomNumberGenerator

    var prevSoftState: SoftState
    var prevHardState: HardState

    /// Creates a node from what `storage` has persisted (a fresh group, or a restart).
    ///
    /// - Parameters:
    ///   - config: the node's parameters.
    ///   - storage: its persisted log and state.
    ///   - random: source of election-timeout randomness; defaults to a ``SplitMix64`` seeded with the id.
    /// - Throws: ``RaftError/invalidConfig(_:)``, or an error from `storage`.
    public init(
        config: RaftConfig,
        storage: any Storage,
        random: (any RandomNumberGenerator)? = nil
    ) throws(RaftError) {
        try config.validate()
        let (hardState, confState) = try storage.initialState()
        id = config.id
        self.config = config
        raftLog = RaftLog(storage: storage)
        tracker = ProgressTracker(confState: confState, maxInflight: config.maxInflightMessages)
        self.random = random ?? SplitMix64(seed: config.id)
        prevSoftState = SoftState(leader: 0, role: .follower)
        prevHardState = HardState()
        if !hardState.isEmpty {
            if hardState.commit > raftLog.lastIndex() {
                throw RaftError.invalidConfig("hard state commit \(hardState.commit) beyond last index")
            }
            raftLog.commitTo(hardState.commit)
            term = hardState.term
            vote = hardState.vote
        }
        if config.applied > 0 {
            raftLog.appliedTo(min(config.applied, raftLog.committed))
        }
        becomeFollower(term: term, leader: 0)
        prevHardState = self.hardState
        prevSoftState = softState
    }

    // MARK: - Status

    /// The durable state as of now.
    public var hardState: HardState {
        HardState(term: term, vote: vote, commit: raftLog.committed)
    }

    /// The volatile state as of now.
    public var softState: SoftState {
        SoftState(leader: leader, role: role)
    }

    /// Highest committed index.
    public var committedIndex: UInt64 { raftLog.committed }
    /// Highest index acknowledged as applied through ``advance(_:)``.
    public var appliedIndex: UInt64 { raftLog.applied }
    /// First index still in the log (persisted or not).
    public var firstIndex: UInt64 { raftLog.firstIndex() }
    /// Last index in the log (persisted or not).
    public var lastIndex: UInt64 { raftLog.lastIndex() }
    /// Current membership.
    public var confState: ConfState { tracker.confState }
    /// Target of an ongoing leader transfer, or 0.
    public var leaderTransferee: UInt64 { leadTransferee }

    /// The term of the entry at `index` in this node's log.
    ///
    /// - Parameter index: an index.
    /// - Returns: the term, or nil if compacted or beyond the last index.
    public func term(at index: UInt64) -> UInt64? {
        raftLog.term(index)
    }

    /// Log entries `[low, high)` known to this node (persisted or not).
    ///
    /// - Parameters:
    ///   - low: first index.
    ///   - high: one past the last index.
    /// - Returns: the entries, or nil if `low` is compacted or `high` is past the end.
    public func entries(from low: UInt64, to high: UInt64) -> [Entry]? {
        guard high <= lastIndex + 1 else { return nil }
        return raftLog.slice(low, high, maxSize: Int.max)
    }

    /// A leader's replication progress for `id` (useful for log GC: entries below every follower's
    /// `match` may be compacted without forcing a snapshot).
    ///
    /// - Parameter id: a voter.
    /// - Returns: the progress, or nil if not leader or not a voter.
    public func progress(of id: UInt64) -> Progress? {
        role == .leader ? tracker.progress[id] : nil
    }

    /// Whether this node may campaign: it must be a voter.
    var isPromotable: Bool { tracker.isVoter(id) }

    // MARK: - Driving

    /// Advances logical time by one tick: followers and candidates count towards an election, leaders
    /// towards a heartbeat and a check-quorum round.
    public func tick() {
        switch role {
        case .leader: tickLeader()
        case .follower, .preCandidate, .candidate: tickElection()
        }
    }

    /// Processes a message from a peer. Messages for another node, stale or irrelevant ones are ignored,
    /// so the caller may deliver whatever the network hands it.
    ///
    /// - Parameter m: the message.
    public func step(_ m: Message) {
        guard m.to == id, m.from != 0 else { return }
        if m.term > term {
            if m.kind == .requestVote || m.kind == .requestPreVote {
                // Leader stickiness (thesis §4.2.3): while we heard from a leader within the minimum election
                // timeout, a vote request is from a node that lost contact, and granting it would depose a
                // working leader. A transfer is the leader's own request, so it is honoured.
                let inLease = config.checkQuorum && leader != 0 && electionElapsed < config.electionTick
                if inLease && !m.leaderTransfer { return }
            }
            switch m.kind {
            case .requestPreVote:
                // A pre-vote never changes our term: the sender has not adopted it either.
                break
            case .requestPreVoteResponse where !m.reject:
                // Granted pre-votes carry the prospective term; we adopt it when the pre-vote wins.
                break
            case .append, .heartbeat, .snapshot:
                becomeFollower(term: m.term, leader: m.from)
            default:
                becomeFollower(term: m.term, leader: 0)
            }
        } else if m.term < term {
            if (config.checkQuorum || config.preVote) && (m.kind == .heartbeat || m.kind == .append) {
                // A stale leader (e.g. one that was partitioned and whose term we passed during pre-vote-less
                // elections) would otherwise never learn our term; answering lets it step down.
                send(Message(kind: .appendResponse, to: m.from))
            } else if m.kind == .requestPreVote {
                send(Message(kind: .requestPreVoteResponse, to: m.from, term: term, reject: true))
            }
            return
        }

        switch m.kind {
        case .requestVote, .requestPreVote:
            handleVoteRequest(m)
        default:
            switch role {
            case .leader: stepLeader(m)
            case .candidate, .preCandidate: stepCandidate(m)
            case .follower: stepFollower(m)
            }
        }
    }

    /// §5.2/§5.4.1: grant at most one vote per term, first come first served, and only to a candidate whose
    /// log is at least as up-to-date as ours.
    func handleVoteRequest(_ m: Message) {
        let responseKind: MessageKind = m.kind == .requestVote ? .requestVoteResponse : .requestPreVoteResponse
        let canVote = vote == m.from
            || (vote == 0 && leader == 0)
            || (m.kind == .requestPreVote && m.term > term)
        if canVote && raftLog.isUpToDate(lastIndex: m.index, term: m.logTerm) {
            send(Message(kind: responseKind, to: m.from, term: m.term))
            if m.kind == .requestVote {
                electionElapsed = 0
                vote = m.from
            }
        } else {
            send(Message(kind: responseKind, to: m.from, term: term, reject: true))
        }
    }

    /// Starts an election now (as if the election timeout had fired), with a pre-vote round if enabled.
    /// Does nothing on a leader or a non-voter, or while a committed conf change is unapplied.
    public func campaign() {
        hup(transfer: false)
    }

    func hup(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        // Our membership may be about to change: campaigning with the old one could split the vote.
        if hasUnappliedConfChange() { return }
        startCampaign(preVote: config.preVote && !transfer, transfer: transfer)
    }

    func hasUnappliedConfChange() -> Bool {
        guard raftLog.committed > raftLog.applied else { return false }
        return raftLog.nextCommittedEntries().contains { $0.kind == .confChange }
    }

    /// Proposes application data. Only a leader accepts proposals; the raftstore routes to the leader.
    ///
    /// - Parameter data: the payload.
    /// - Returns: the index the entry got; it is committed once it appears in ``Ready/committedEntries``
    ///   with the same index *and* this term (a later leader may overwrite an uncommitted entry).
    /// - Throws: ``RaftError/notLeader`` or ``RaftError/leaderTransferInProgress``.
    @discardableResult
    public func propose(_ data: [UInt8]) throws(RaftError) -> UInt64 {
        try propose(batch: [data])
    }

    /// Proposes several payloads as consecutive entries (one append message carries them together).
    ///
    /// - Parameter batch: the payloads.
    /// - Returns: the index of the last one (the first is `last - batch.count + 1`).
    /// - Throws: ``RaftError/notLeader`` or ``RaftError/leaderTransferInProgress``.
    @discardableResult
    public func propose(batch: [[UInt8]]) throws(RaftError) -> UInt64 {
        try checkCanPropose()
        let entries = batch.map { Entry(term: 0, index: 0, data: $0) }
        appendEntries(entries)
        broadcastAppend()
        return raftLog.lastIndex()
    }

    /// Proposes a membership change. It takes effect when the caller applies the committed entry and calls
    /// ``applyConfChange(_:)``.
    ///
    /// - Parameter change: the change.
    /// - Returns: the index of the conf-change entry.
    /// - Throws: ``RaftError/notLeader``, ``RaftError/leaderTransferInProgress``,
    ///   ``RaftError/confChangePending`` (one change at a time; also until the leader has applied every
    ///   entry from before its term), ``RaftError/invalidConfChange``.
    @discardableResult
    public func proposeConfChange(_ change: ConfChange) throws(RaftError) -> UInt64 {
        try checkCanPropose()
        if pendingConfIndex > raftLog.applied { throw RaftError.confChangePending }
        switch change.kind {
        case .addNode where tracker.isVoter(change.nodeID), .removeNode where !tracker.isVoter(change.nodeID):
            throw RaftError.invalidConfChange
        case .removeNode where tracker.voters.count == 1:
            throw RaftError.invalidConfChange
        default:
            break
        }
        appendEntries([Entry(term: 0, index: 0, kind: .confChange, data: change.encode())])
        pendingConfIndex = raftLog.lastIndex()
        broadcastAppend()
        return pendingConfIndex
    }

    private func checkCanPropose() throws(RaftError) {
        guard role == .leader, tracker.isVoter(id) else { throw RaftError.notLeader }
        guard leadTransferee == 0 else { throw RaftError.leaderTransferInProgress }
    }

    /// Makes a committed membership change effective on this node. Call it while applying the
    /// conf-change entry (from ``Ready/committedEntries``), before ``advance(_:)``.
    ///
    /// A leader that removes itself steps down; the remaining voters elect a new leader.
    ///
    /// - Parameter change: the decoded change.
    /// - Returns: the new membership, to store with the next snapshot.
    @discardableResult
    public func applyConfChange(_ change: ConfChange) -> ConfState {
        switch change.kind {
        case .addNode:
            tracker.addVoter(change.nodeID, lastIndex: raftLog.lastIndex())
        case .removeNode:
            tracker.removeVoter(change.nodeID)
            if leadTransferee == change.nodeID { abortLeaderTransfer() }
        }
        if role == .leader {
            if !tracker.isVoter(id) {
                becomeFollower(term: term, leader: 0)
            } else if maybeCommit() {
                // A smaller quorum may already cover more entries.
                broadcastAppend()
            }
        }
        return tracker.confState
    }

    /// Asks for a linearizable read index (thesis §6.4). The answer arrives as a ``ReadState`` in a later
    /// ``Ready/readStates`` with the same context; serve the read once the applied index reaches it.
    ///
    /// On a follower the request is forwarded to the leader. Requests are lost if leadership changes
    /// before they are answered: time them out and retry.
    ///
    /// - Parameter context: identifies the request; must be unique among outstanding requests.
    /// - Throws: ``RaftError/notLeader`` if no leader is known.
    public func readIndex(context: [UInt8]) throws(RaftError) {
        switch role {
        case .leader:
            handleReadIndexRequest(from: id, context: context)
        case .follower where leader != 0:
            send(Message(kind: .readIndex, to: leader, context: context))
        default:
            throw RaftError.notLeader
        }
    }

    /// Hands leadership to `target` (thesis §3.10): the leader stops accepting proposals, brings `target`
    /// up to date, then sends it `TimeoutNow` so it campaigns at once. The transfer is abandoned if it has
    /// not completed within an election timeout.
    ///
    /// - Parameter target: a voter other than this node.
    /// - Throws: ``RaftError/notLeader`` if this node is not leader, ``RaftError/invalidConfChange`` if
    ///   `target` is not another voter.
    public func transferLeader(to target: UInt64) throws(RaftError) {
        guard role == .leader else { throw RaftError.notLeader }
        guard target != id, tracker.isVoter(target) else { throw RaftError.invalidConfChange }
        if leadTransferee == target { return }
        abortLeaderTransfer()
        // The transfer must finish within one election timeout, counted from now.
        electionElapsed = 0
        leadTransferee = target
        if tracker.progress[target]?.match == raftLog.lastIndex() {
            send(Message(kind: .timeoutNow, to: target))
        } else {
            sendAppend(to: target)
        }
    }

    /// Reports the outcome of sending a snapshot message to `id`. Either way the leader goes back to
    /// probing `id`: after success the probe starts past the snapshot.
    ///
    /// - Parameters:
    ///   - id: the follower.
    ///   - failed: whether the transfer failed.
    public func reportSnapshot(to id: UInt64, failed: Bool) {
        guard role == .leader, var pr = tracker.progress[id], pr.state == .snapshot else { return }
        if failed { pr.pendingSnapshot = 0 }
        pr.becomeProbe()
        // Wait for the next heartbeat response before probing, rather than sending at once.
        pr.probeSent = true
        tracker.progress[id] = pr
    }

    /// Sends every follower the commit index now, in an append (empty when it lacks nothing), as a leader
    /// whose ``RaftConfig/broadcastsCommit`` is false does not on its own: for an entry that followers should
    /// apply promptly (a region split, say). Does nothing unless leader.
    public func announceCommit() {
        guard role == .leader else { return }
        broadcastAppend()
    }

    /// Reports that `id` could not be reached, so a streaming leader falls back to probing it.
    ///
    /// - Parameter id: the peer.
    public func reportUnreachable(_ id: UInt64) {
        guard role == .leader, var pr = tracker.progress[id], pr.state == .replicate else { return }
        pr.becomeProbe()
        tracker.progress[id] = pr
    }

    // MARK: - Role changes

    func reset(term newTerm: UInt64) {
        if term != newTerm {
            term = newTerm
            vote = 0
        }
        leader = 0
        electionElapsed = 0
        heartbeatElapsed = 0
        resetRandomizedElectionTimeout()
        abortLeaderTransfer()
        tracker.resetVotes()
        tracker.resetProgress(lastIndex: raftLog.lastIndex(), selfID: id)
        pendingConfIndex = 0
        readOnly = ReadOnlyQueue()
        pendingReadRequests = []
    }

    func resetRandomizedElectionTimeout() {
        randomizedElectionTimeout = config.electionTick + Int(random.next() % UInt64(config.electionTick))
    }

    func abortLeaderTransfer() {
        leadTransferee = 0
    }

    func becomeFollower(term newTerm: UInt64, leader newLeader: UInt64) {
        reset(term: newTerm)
        role = .follower
        leader = newLeader
    }

    func becomePreCandidate() {
        // Pre-vote changes neither term nor vote: a node that cannot win must leave no trace.
        precondition(role != .leader, "leader cannot become pre-candidate")
        tracker.resetVotes()
        leader = 0
        role = .preCandidate
    }

    func becomeCandidate() {
        precondition(role != .leader, "leader cannot become candidate")
        reset(term: term + 1)
        vote = id
        role = .candidate
    }

    func becomeLeader() {
        precondition(role == .candidate, "only a candidate can become leader")
        reset(term: term)
        leader = id
        role = .leader
        tracker.progress[id]?.becomeReplicate()
        // Entries before this term may hold a conf change not yet applied; wait for them all.
        pendingConfIndex = raftLog.lastIndex()
        // An empty entry of the new term: committing it commits everything before it (§5.4.2, §8).
        appendEntries([Entry(term: 0, index: 0)])
    }

    func startCampaign(preVote: Bool, transfer: Bool) {
        let voteTerm: UInt64
        let kind: MessageKind
        if preVote {
            becomePreCandidate()
            voteTerm = term + 1
            kind = .requestPreVote
        } else {
            becomeCandidate()
            voteTerm = term
            kind = .requestVote
        }
        if poll(from: id, granted: true) == .won {
            // A single-voter group wins at once.
            if preVote {
                startCampaign(preVote: false, transfer: transfer)
            } else {
                becomeLeader()
                broadcastAppend()
            }
            return
        }
        let lastIndex = raftLog.lastIndex()
        let lastTerm = raftLog.lastTerm()
        for peer in tracker.voters where peer != id {
            send(Message(kind: kind, to: peer, term: voteTerm, logTerm: lastTerm, index: lastIndex,
                         leaderTransfer: transfer))
        }
    }

    func poll(from voter: UInt64, granted: Bool) -> VoteResult {
        tracker.recordVote(from: voter, granted: granted)
        return tracker.voteResult()
    }

    // MARK: - Outbox

    /// Records a message for the next Ready, stamping sender and (except for votes, which carry their own
    /// term) the current term.
    func send(_ message: Message) {
        var m = message
        m.from = id
        switch m.kind {
        case .requestVote, .requestVoteResponse, .requestPreVote, .requestPreVoteResponse:
            precondition(m.term != 0, "vote messages must carry a term")
        default:
            m.term = term
        }
        messages.append(m)
    }
}
