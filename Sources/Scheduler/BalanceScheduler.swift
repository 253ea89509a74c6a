import KVProtocol

/// The schedulers that spread load once every region has its replicas: `balance-leader` moves leadership
/// from the store leading the most regions to the one leading the fewest, `balance-region` moves replicas
/// from the store with the highest region score to the lowest. Each can be turned off and on
/// (`kvctl scheduler remove|add NAME`).
///
/// A store's region score is the sum, over the regions it holds a replica of, of the region's size — at least
/// ``minimumRegionWeight``, so that new, empty regions still count. A move is proposed only when it
/// narrows the gap: the source's score exceeds the target's by more than the region's weight (for leaders:
/// by more than one), so both converge instead of moving things back and forth, and equal-sized regions end
/// with counts that differ by at most one. Operators in flight count as done, and at most
/// ``SchedulerOptions/balanceOperatorLimit`` of each scheduler run at once, so a new store is filled steadily
/// rather than by one burst of snapshots.
public struct BalanceScheduler: Sendable {
    /// A scheduler's name, as `kvctl scheduler` shows it.
    public enum Name: String, Sendable, CaseIterable, Hashable {
        /// Spreads leaders.
        case balanceLeader = "balance-leader"
        /// Spreads replicas by size.
        case balanceRegion = "balance-region"
    }

    /// The smallest weight a region counts for (1 MiB): empty regions still cost a replica.
    public static let minimumRegionWeight: UInt64 = 1 << 20

    /// Per store: regions' summed weights and leader counts, with operators in flight counted as done.
    public struct Load: Sendable {
        /// Summed region weights per store id.
        public var regionScore: [UInt64: UInt64] = [:]
        /// Regions led per store id.
        public var leaders: [UInt64: Int] = [:]
        /// Running operators started by each scheduler.
        public var running: [Name: Int] = [:]

        /// Computes the load from the region map and the running operators.
        public init(regions: RegionMap, operators: [UInt64: SchedulingOperator]) {
            for entry in regions.all {
                let weight = BalanceScheduler.weight(of: entry)
                for peer in entry.region.peers { regionScore[peer.storeID, default: 0] += weight }
                if let leader = entry.leaderStoreID { leaders[leader, default: 0] += 1 }
            }
            for running in operators.values {
                if let origin = running.origin { self.running[origin, default: 0] += 1 }
                guard let entry = regions[running.regionID] else { continue }
                switch running.kind {
                case .addPeer:
                    regionScore[running.peer.storeID, default: 0] += BalanceScheduler.weight(of: entry)
                case .removePeer:
                    let score = regionScore[running.peer.storeID, default: 0]
                    regionScore[running.peer.storeID] = score - min(score, BalanceScheduler.weight(of: entry))
                case .transferLeader:
                    if let from = entry.leaderStoreID { leaders[from, default: 0] -= 1 }
                    leaders[running.peer.storeID, default: 0] += 1
                }
            }
        }
    }

    /// The options read (replica count, operator limit, store health times).
    public var options: SchedulerOptions

    /// Creates the schedulers.
    public init(options: SchedulerOptions) {
        self.options = options
    }

    /// A region's weight in store scores.
    public static func weight(of entry: RegionMap.Entry) -> UInt64 {
        max(entry.approximateSize, minimumRegionWeight)
    }

    /// What `balance-region` would do about a region: add a replica on the lowest-scored store (the replica
    /// checker then removes the surplus one from the busiest store, moving leadership first if needed).
    ///
    /// Only for a healthy region (exactly its replica count, every store up) while fewer than the limit of
    /// balance-region operators run.
    public func balanceRegion(
        _ entry: RegionMap.Entry, stores: [UInt64: StoreState], load: Load, now: UInt64
    ) -> ReplicaChecker.Decision {
        guard (load.running[.balanceRegion] ?? 0) < options.balanceOperatorLimit,
            entry.region.peers.count == options.maxReplicas,
            entry.region.peers.allSatisfy({ isUp($0.storeID, stores: stores, now: now) })
        else { return .none }
        let weight = Self.weight(of: entry)
        let used = Set(entry.region.peers.map(\.storeID))
        guard let source = used.max(by: { (load.regionScore[$0] ?? 0, $1) < (load.regionScore[$1] ?? 0, $0) }),
            let target = stores.keys
                .filter({ !used.contains($0) && isUp($0, stores: stores, now: now) })
                .min(by: { (load.regionScore[$0] ?? 0, $0) < (load.regionScore[$1] ?? 0, $1) })
        else { return .none }
        let sourceScore = load.regionScore[source] ?? 0
        let targetScore = load.regionScore[target] ?? 0
        guard sourceScore > targetScore, sourceScore - targetScore > weight else { return .none }
        return .addPeer(
            storeID: target,
            reason: "balance-region: move from store \(source) (score \(sourceScore >> 20) MiB) to store \(target) (\(targetScore >> 20) MiB)")
    }

    /// What `balance-leader` would do about a region: move its leadership to the follower whose store leads
    /// the fewest regions, when the leader's store leads at least two more.
    public func balanceLeader(
        _ entry: RegionMap.Entry, stores: [UInt64: StoreState], load: Load, now: UInt64
    ) -> ReplicaChecker.Decision {
        guard (load.running[.balanceLeader] ?? 0) < options.balanceOperatorLimit,
            let leaderStore = entry.leaderStoreID
        else { return .none }
        let followers = entry.region.peers.filter {
            $0.id != entry.leaderPeerID && isUp($0.storeID, stores: stores, now: now)
        }
        guard let target = followers.min(by: { (load.leaders[$0.storeID] ?? 0, $0.storeID) < (load.leaders[$1.storeID] ?? 0, $1.storeID) })
        else { return .none }
        let from = load.leaders[leaderStore] ?? 0
        let to = load.leaders[target.storeID] ?? 0
        guard from - to > 1 else { return .none }
        return .transferLeader(
            target, reason: "balance-leader: store \(leaderStore) leads \(from), store \(target.storeID) leads \(to)")
    }

    private func isUp(_ storeID: UInt64, stores: [UInt64: StoreState], now: UInt64) -> Bool {
        guard let store = stores[storeID] else { return false }
        return !store.isRemoving && store.health(at: now, options: options) == .up
    }
}
