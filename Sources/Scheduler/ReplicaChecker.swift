import KVProtocol

/// Keeps every region at ``SchedulerOptions/maxReplicas`` healthy peers on distinct stores.
///
/// Checked on each region heartbeat, in this order: a region short of healthy replicas (peers on stores
/// that are down or being removed do not count) gets a peer on the up store with the fewest regions that
/// holds none of its peers and is not being removed; a region with more peers than it needs loses one — on a
/// down store first, then on a store being removed, else on the store with the most regions. The leader is
/// never removed: when it is the one to go, leadership moves to a healthy peer first. Stores that are merely
/// disconnected keep their replicas: a restart should not cost a full copy.
public struct ReplicaChecker: Sendable {
    /// The options the checker reads.
    public var options: SchedulerOptions

    /// Creates a checker.
    public init(options: SchedulerOptions) {
        self.options = options
    }

    /// What to do about a region.
    public enum Decision: Sendable, Equatable {
        /// Nothing: it has what it needs (or no store can take another replica).
        case none
        /// Add a peer on this store (the caller allocates the peer id).
        case addPeer(storeID: UInt64, reason: String)
        /// Remove this peer.
        case removePeer(RegionPeer, reason: String)
        /// Move leadership to this peer (so that the current leader's replica can be removed next).
        case transferLeader(RegionPeer, reason: String)
    }

    /// Decides about one region.
    ///
    /// - Parameters:
    ///   - entry: The region as last reported.
    ///   - stores: Every store, by id.
    ///   - regionCounts: Regions per store id.
    ///   - now: Monotonic milliseconds.
    public func check(
        _ entry: RegionMap.Entry, stores: [UInt64: StoreState], regionCounts: [UInt64: Int], now: UInt64
    ) -> Decision {
        let region = entry.region
        func health(_ storeID: UInt64) -> StoreState.Health {
            stores[storeID]?.health(at: now, options: options) ?? .down
        }
        func leaving(_ storeID: UInt64) -> Bool { stores[storeID]?.isRemoving ?? false }
        let healthy = region.peers.filter { health($0.storeID) != .down && !leaving($0.storeID) }
        if healthy.count < options.maxReplicas {
            let used = Set(region.peers.map(\.storeID))
            let candidates = stores.values
                .filter { !used.contains($0.descriptor.id) && !$0.isRemoving && $0.health(at: now, options: options) == .up }
                .sorted { (regionCounts[$0.descriptor.id] ?? 0, $0.descriptor.id) < (regionCounts[$1.descriptor.id] ?? 0, $1.descriptor.id) }
            if let target = candidates.first {
                return .addPeer(
                    storeID: target.descriptor.id,
                    reason: "replica-checker: \(healthy.count) healthy of \(options.maxReplicas) replicas")
            }
            // No store can take one: removing would only make it worse, so fall through only on excess.
        }
        if region.peers.count > options.maxReplicas {
            let victim: (peer: RegionPeer, reason: String)?
            if let down = region.peers.first(where: { health($0.storeID) == .down }) {
                victim = (down, "replica-checker: peer on down store \(down.storeID)")
            } else if let drained = region.peers.first(where: { leaving($0.storeID) }) {
                victim = (drained, "replica-checker: store \(drained.storeID) is being removed")
            } else if healthy.count > options.maxReplicas,
                let busiest = region.peers.max(by: { (regionCounts[$0.storeID] ?? 0, $1.storeID) < (regionCounts[$1.storeID] ?? 0, $0.storeID) })
            {
                victim = (busiest, "replica-checker: \(region.peers.count) replicas, \(options.maxReplicas) wanted")
            } else {
                victim = nil
            }
            if let victim {
                if victim.peer.id != entry.leaderPeerID { return .removePeer(victim.peer, reason: victim.reason) }
                // The leader cannot be removed: hand leadership to a healthy peer first.
                if let heir = healthy.first(where: { $0.id != entry.leaderPeerID && health($0.storeID) == .up }) {
                    return .transferLeader(heir, reason: victim.reason + " (its leader moves first)")
                }
            }
        }
        return .none
    }
}
