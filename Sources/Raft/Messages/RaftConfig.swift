/// Parameters of a ``RaftNode``.
public struct RaftConfig {
    /// This node's id; must be non-zero.
    public var id: UInt64
    /// Ticks without hearing from a leader before a follower campaigns. The actual timeout is randomized in
    /// `[electionTick, 2 * electionTick)`. Must be greater than `heartbeatTick` (10× is usual).
    public var electionTick: Int
    /// Ticks between leader heartbeats.
    public var heartbeatTick: Int
    /// Index the caller's state machine has already applied (on restart); entries up to it are not returned
    /// again as committed entries. 0 means "from the storage's snapshot".
    public var applied: UInt64
    /// Maximum bytes of entries in one append message (at least one entry is always sent); `Int.max` for
    /// no limit.
    public var maxSizePerMessage: Int
    /// Maximum number of append messages in flight to one follower in the replicate state.
    public var maxInflightMessages: Int
    /// A leader steps down if it has not heard from a quorum within `electionTick` ticks, and followers
    /// that heard from a leader within `electionTick` ticks ignore vote requests (leader stickiness).
    public var checkQuorum: Bool
    /// Campaign with a pre-vote round first (thesis §9.6) so that a node that was partitioned away does not
    /// bump the term and depose a healthy leader when it comes back.
    public var preVote: Bool
    /// How ReadIndex confirms leadership.
    public var readOnlyOption: ReadOnlyOption
    /// Whether a leader whose commit index advanced sends every follower an append at once to carry it (as
    /// etcd does). When false (raft-rs's `skip_bcast_commit`), followers learn it from the next append or
    /// heartbeat, so they apply up to a heartbeat later; on a region written one entry at a time this saves
    /// an append and its answer per follower per write. A committed membership change is announced at once
    /// either way, so a removed follower learns of its removal.
    public var broadcastsCommit: Bool

    /// Creates a configuration with conventional defaults (election 10 ticks, heartbeat 1 tick, pre-vote
    /// and check-quorum on, safe reads, commits broadcast).
    ///
    /// - Parameters:
    ///   - id: this node's id (non-zero).
    ///   - electionTick: election timeout in ticks.
    ///   - heartbeatTick: heartbeat interval in ticks.
    ///   - applied: last applied index on restart.
    ///   - maxSizePerMessage: byte budget per append.
    ///   - maxInflightMessages: appends in flight per follower.
    ///   - checkQuorum: enable check-quorum.
    ///   - preVote: enable pre-vote.
    ///   - readOnlyOption: ReadIndex mode.
    ///   - broadcastsCommit: announce a new commit index at once.
    public init(
        id: UInt64,
        electionTick: Int = 10,
        heartbeatTick: Int = 1,
        applied: UInt64 = 0,
        maxSizePerMessage: Int = 1 << 20,
        maxInflightMessages: Int = 256,
        checkQuorum: Bool = true,
        preVote: Bool = true,
        readOnlyOption: ReadOnlyOption = .safe,
        broadcastsCommit: Bool = true
    ) {
        self.id = id
        self.electionTick = electionTick
        self.heartbeatTick = heartbeatTick
        self.applied = applied
        self.maxSizePerMessage = maxSizePerMessage
        self.maxInflightMessages = maxInflightMessages
        self.checkQuorum = checkQuorum
        self.preVote = preVote
        self.readOnlyOption = readOnlyOption
        self.broadcastsCommit = broadcastsCommit
    }

    /// Checks the configuration.
    ///
    /// - Throws: ``RaftError/invalidConfig(_:)`` naming the first broken rule.
    public func validate() throws(RaftError) {
        if id == 0 { throw RaftError.invalidConfig("id must not be 0") }
        if heartbeatTick <= 0 { throw RaftError.invalidConfig("heartbeatTick must be positive") }
        if electionTick <= heartbeatTick { throw RaftError.invalidConfig("electionTick must exceed heartbeatTick") }
        if maxInflightMessages <= 0 { throw RaftError.invalidConfig("maxInflightMessages must be positive") }
        if maxSizePerMessage <= 0 { throw RaftError.invalidConfig("maxSizePerMessage must be positive") }
        if readOnlyOption == .leaseBased && !checkQuorum {
            throw RaftError.invalidConfig("leaseBased reads require checkQuorum")
        }
    }
}

// MARK: - Equatable

extension RaftConfig: Equatable {}

// MARK: - Sendable

extension RaftConfig: Sendable {}
