import KVProtocol
import Scheduler
import Testing

@Suite("Balance schedulers")
struct BalanceSchedulerTests {
    /// Stores 1...count, all up at `now`.
    static func stores(_ count: Int, now: UInt64 = 1_000) -> [UInt64: StoreState] {
        var stores: [UInt64: StoreState] = [:]
        for id in 1...UInt64(count) {
            stores[id] = StoreState(descriptor: StoreDescriptor(id: id, address: "127.0.0.1:\(id)"), lastHeartbeat: nil, lastSeen: now)
        }
        return stores
    }

    /// `count` regions of three peers on stores 1, 2, 3, led by `leaderStore(i)`.
    static func map(regions count: Int, size: UInt64 = 0, leaderStore: (Int) -> UInt64 = { _ in 1 }) -> RegionMap {
        var map = RegionMap()
        for i in 0..<count {
            let id = UInt64(100 + 10 * i)
            let start: [UInt8] = i == 0 ? [] : [UInt8(i)]
            let end: [UInt8] = i == count - 1 ? [] : [UInt8(i + 1)]
            let peers = (1...3).map { RegionPeer(id: id + UInt64($0), storeID: UInt64($0)) }
            let region = Region(id: id, startKey: start, endKey: end, peers: peers)
            map.place(RegionMap.Entry(region: region, leaderPeerID: id + leaderStore(i), approximateSize: size, approximateKeys: 0))
        }
        return map
    }

    @Test("balance-region adds a replica on an empty store, up to the operator limit, and stops when even")
    func regionsMoveToTheEmptyStore() {
        let stores = Self.stores(4)
        let map = Self.map(regions: 8)
        let balancer = BalanceScheduler(options: SchedulerOptions())
        var operators: [UInt64: SchedulingOperator] = [:]
        var moves = 0
        for entry in map.all {
            let load = BalanceScheduler.Load(regions: map, operators: operators)
            guard case .addPeer(let store, _) = balancer.balanceRegion(entry, stores: stores, load: load, now: 1_000) else { continue }
            #expect(store == 4)
            operators[entry.region.id] = SchedulingOperator(
                kind: .addPeer, regionID: entry.region.id, peer: RegionPeer(id: 1, storeID: 4), reason: "", createdAt: 0,
                origin: .balanceRegion)
            moves += 1
        }
        // Four at a time (the limit), though six would even the stores out.
        #expect(moves == SchedulerOptions().balanceOperatorLimit)
        // Once the counts differ by at most one, nothing moves: 6, 6, 6, 6 replicas after six moves.
        var even = RegionMap()
        for (i, entry) in map.all.enumerated() {
            var moved = entry
            if i < 6 { moved.region.peers[i % 3] = RegionPeer(id: 9_000 + UInt64(i), storeID: 4) }
            even.place(moved)
        }
        let load = BalanceScheduler.Load(regions: even, operators: [:])
        #expect(load.regionScore.values.allSatisfy { $0 == 6 * BalanceScheduler.minimumRegionWeight })
        for entry in even.all { #expect(balancer.balanceRegion(entry, stores: stores, load: load, now: 1_000) == .none) }
    }

    @Test("balance-region weighs regions by size and never targets a store that is down, removing, or holds a peer")
    func regionTargets() {
        var stores = Self.stores(5, now: 30_000)
        stores[4]?.lastSeen = 0  // silent since 0: disconnected at 30 s
        stores[5]?.isRemoving = true
        let map = Self.map(regions: 3, size: 64 << 20)
        let balancer = BalanceScheduler(options: SchedulerOptions())
        let load = BalanceScheduler.Load(regions: map, operators: [:])
        #expect(load.regionScore[1] == 3 * (64 << 20))
        for entry in map.all { #expect(balancer.balanceRegion(entry, stores: stores, load: load, now: 30_000) == .none) }
        stores[4]?.lastSeen = 30_000
        guard case .addPeer(let target, _) = balancer.balanceRegion(map.all[0], stores: stores, load: load, now: 30_000) else {
            Issue.record("no move to the store that came back")
            return
        }
        #expect(target == 4)
    }

    @Test("balance-leader moves leadership from the store leading the most to the follower leading the fewest")
    func leadersSpread() {
        let stores = Self.stores(3)
        // Store 1 leads 5, store 2 one, store 3 none.
        let map = Self.map(regions: 6) { $0 == 5 ? 2 : 1 }
        let balancer = BalanceScheduler(options: SchedulerOptions())
        let load = BalanceScheduler.Load(regions: map, operators: [:])
        guard case .transferLeader(let peer, _) = balancer.balanceLeader(map.all[0], stores: stores, load: load, now: 1_000) else {
            Issue.record("no transfer")
            return
        }
        #expect(peer.storeID == 3)
        // Transfers in flight count: with store 3 about to lead two and store 2 one more, 5-2=3... until even.
        var operators: [UInt64: SchedulingOperator] = [:]
        for entry in map.all where entry.leaderStoreID == 1 {
            let load = BalanceScheduler.Load(regions: map, operators: operators)
            if case .transferLeader(let target, _) = balancer.balanceLeader(entry, stores: stores, load: load, now: 1_000) {
                operators[entry.region.id] = SchedulingOperator(
                    kind: .transferLeader, regionID: entry.region.id, peer: target, reason: "", createdAt: 0, origin: .balanceLeader)
            }
        }
        let after = BalanceScheduler.Load(regions: map, operators: operators)
        #expect(after.leaders[1] == 2 && after.leaders[2] == 2 && after.leaders[3] == 2, "\(after.leaders)")
        // Even: nothing more.
        for entry in map.all { #expect(balancer.balanceLeader(entry, stores: stores, load: after, now: 1_000) == .none) }
    }
}
