import KVProtocol

/// What turns a raftstore into a member of a replicated cluster (without it, the store is standalone: one
/// region, one voter, no transport).
public struct ClusterConfiguration: Sendable {
    /// Called once, for a data directory that has no store identity yet: the store's identity in the
    /// cluster, and the regions it starts with (the first region when this node bootstraps the cluster,
    /// none otherwise — peers arrive from their leaders).
    public var joinCluster: @Sendable () throws -> (StoreIdentity, [Region])
    /// The address of another store: may block (it may ask the scheduler); nil while unknown.
    public var resolveStoreAddress: @Sendable (UInt64) -> String?
    /// The address of a store if known without waiting, for `NOT_LEADER` answers.
    public var cachedStoreAddress: @Sendable (UInt64) -> String?
    /// Whether `FAULT` requests are obeyed (tests only).
    public var enableFaultInjection: Bool
    /// This store's address, sent with its Raft batches.
    public var advertiseAddress: String
    /// Told the address of a store that sent Raft messages (so answers reach it while the scheduler is down).
    public var learnStoreAddress: @Sendable (UInt64, String) -> Void
    /// Allocates `count` consecutive ids from the scheduler and returns the first (may block; throws when the
    /// scheduler cannot be reached): new regions and peers of a split.
    public var allocateIDs: @Sendable (Int) throws -> UInt64
    /// Told that this store's regions changed shape (a split), so the scheduler hears of it at once.
    public var regionsChanged: @Sendable () -> Void
    /// The cluster's MVCC garbage collection safe point, from the scheduler (may block; throws when it cannot
    /// be reached).
    public var gcSafePoint: @Sendable () throws -> UInt64

    /// Creates a configuration.
    public init(
        joinCluster: @escaping @Sendable () throws -> (StoreIdentity, [Region]),
        resolveStoreAddress: @escaping @Sendable (UInt64) -> String?,
        cachedStoreAddress: @escaping @Sendable (UInt64) -> String?,
        advertiseAddress: String = "",
        learnStoreAddress: @escaping @Sendable (UInt64, String) -> Void = { _, _ in },
        allocateIDs: @escaping @Sendable (Int) throws -> UInt64 = { _ in
            throw RaftStoreError(.incompatible, "no scheduler to allocate ids")
        },
        regionsChanged: @escaping @Sendable () -> Void = {},
        gcSafePoint: @escaping @Sendable () throws -> UInt64 = { 0 },
        enableFaultInjection: Bool = false
    ) {
        self.gcSafePoint = gcSafePoint
        self.allocateIDs = allocateIDs
        self.regionsChanged = regionsChanged
        self.advertiseAddress = advertiseAddress
        self.learnStoreAddress = learnStoreAddress
        self.joinCluster = joinCluster
        self.resolveStoreAddress = resolveStoreAddress
        self.cachedStoreAddress = cachedStoreAddress
        self.enableFaultInjection = enableFaultInjection
    }
}

/// A change the scheduler asked a region's leader to make.
public struct RegionOperator: Sendable, Hashable {
    /// What to change.
    public enum Kind: String, Sendable {
        /// Add a voter on a store.
        case addPeer = "add_peer"
        /// Remove a voter.
        case removePeer = "remove_peer"
        /// Hand leadership to a peer.
        case transferLeader = "transfer_leader"
    }

    /// What to change.
    public var kind: Kind
    /// The region.
    public var regionID: UInt64
    /// The peer added, removed, or made leader.
    public var peer: RegionPeer

    /// Creates an operator.
    public init(kind: Kind, regionID: UInt64, peer: RegionPeer) {
        self.kind = kind
        self.regionID = regionID
        self.peer = peer
    }
}

/// A region this store leads, for the scheduler's region heartbeat.
public struct LeaderReport: Sendable {
    /// Range, epoch and peers.
    public var region: Region
    /// This store's peer, the leader.
    public var leaderPeerID: UInt64
    /// Approximate bytes of the region's keys and values (the last split check's measure plus writes since).
    public var approximateSize: UInt64 = 0
    /// Approximate number of keys, as the last split check counted them.
    public var approximateKeys: UInt64 = 0
}
