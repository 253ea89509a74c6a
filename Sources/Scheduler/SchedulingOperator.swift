import KVProtocol

/// A change the scheduler asks a region's leader to make, sent in the answer to its heartbeat until the
/// region shows it done or it times out. One operator per region at a time.
public struct SchedulingOperator: Sendable, Hashable {
    /// What to change.
    public enum Kind: String, Sendable, Hashable {
        /// Add a peer on a store (a voter at once: the Raft library has no learners yet).
        case addPeer = "add_peer"
        /// Remove a peer.
        case removePeer = "remove_peer"
        /// Hand leadership to a peer.
        case transferLeader = "transfer_leader"
    }

    /// What to change.
    public var kind: Kind
    /// The region.
    public var regionID: UInt64
    /// The peer added, removed or made leader.
    public var peer: RegionPeer
    /// Why (for `kvctl operator list` and logs), e.g. `replica-checker: 2 of 3 replicas`.
    public var reason: String
    /// When it was created (monotonic milliseconds).
    public var createdAt: UInt64
    /// The balance scheduler that created it (nil: the replica checker or a client).
    public var origin: BalanceScheduler.Name?

    /// Creates an operator.
    public init(
        kind: Kind, regionID: UInt64, peer: RegionPeer, reason: String, createdAt: UInt64, origin: BalanceScheduler.Name? = nil
    ) {
        self.origin = origin
        self.kind = kind
        self.regionID = regionID
        self.peer = peer
        self.reason = reason
        self.createdAt = createdAt
    }

    /// Whether the region, as a heartbeat reports it, shows the operator done.
    public func isFinished(by region: Region, leaderPeerID: UInt64) -> Bool {
        switch kind {
        case .addPeer: region.peers.contains(peer)
        case .removePeer: !region.peers.contains { $0.id == peer.id }
        case .transferLeader: leaderPeerID == peer.id
        }
    }

    /// The words after `OK` in the heartbeat answer: `operator=add_peer peer=P store=S`.
    public var fields: ProtocolFields {
        var fields = ProtocolFields()
        fields.append("operator", kind.rawValue)
        fields.append("peer", peer.id)
        fields.append("store", peer.storeID)
        return fields
    }
}
