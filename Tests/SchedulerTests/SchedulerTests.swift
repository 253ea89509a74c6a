import KVProtocol
import KVTestSupport
import Scheduler
import Synchronization
import Testing
import Txn

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    let wall = Atomic<UInt64>(1_700_000_000_000)
    let monotonic = Atomic<UInt64>(1_000)

    var clock: SchedulerClock {
        SchedulerClock(
            wallMilliseconds: { self.wall.load(ordering: .relaxed) },
            monotonicMilliseconds: { self.monotonic.load(ordering: .relaxed) })
    }

    func advance(milliseconds: UInt64) {
        wall.add(milliseconds, ordering: .relaxed)
        monotonic.add(milliseconds, ordering: .relaxed)
    }
}

/// Sends one request line to a service and returns the answer.
func call(_ service: SchedulerService, _ line: String) -> Response {
    let request: Request
    do {
        request = try Request.parse(Array(line.utf8)[...])
    } catch {
        return .error(error)
    }
    return service.read([request])[0]
}

/// The fields of an `OK` answer; records an issue otherwise.
func fields(_ response: Response, sourceLocation: SourceLocation = #_sourceLocation) -> ProtocolFields {
    guard case .ok(let words) = response, let fields = try? ProtocolFields(parsing: words) else {
        Issue.record("expected OK with fields, got \(response)", sourceLocation: sourceLocation)
        return ProtocolFields()
    }
    return fields
}

func errorCode(_ response: Response) -> ErrorCode? {
    if case .error(let error) = response { return error.code }
    return nil
}

@Suite("Timestamp oracle and id allocator")
struct TimestampOracleTests {
    @Test("timestamps strictly increase while the clock stands still, steps back, or a batch overflows the logical bits")
    func strictlyIncreasing() throws {
        var oracle = TimestampOracle(persistedLimit: 0, window: 3000)
        var persisted: [UInt64] = []
        var last: UInt64 = 0
        var now: UInt64 = 1_000_000
        for step in 0..<2000 {
            let count = step % 97 == 0 ? 65_536 : 1 + step % 7
            if step % 50 == 0 { now -= 5 } else if step % 3 == 0 { now += 1 }
            let first = oracle.next(count: count, now: now) { persisted.append($0) }
            #expect(first > last)
            #expect(TimestampOracle.logical(of: first) + UInt64(count) <= TimestampOracle.logicalLimit)
            last = first + UInt64(count) - 1
            #expect(TimestampOracle.physical(of: last) < oracle.persistedLimit)
        }
        #expect(persisted == persisted.sorted())
        #expect(persisted.count >= 1)
    }

    @Test("a failed persist hands out nothing and changes nothing")
    func failedPersist() {
        struct DiskFull: Error {}
        var oracle = TimestampOracle(persistedLimit: 0, window: 3000)
        #expect(throws: DiskFull.self) { try oracle.next(count: 1, now: 5000) { _ in throw DiskFull() } }
        #expect(oracle.persistedLimit == 0)
        let first = oracle.next(count: 1, now: 5000) { _ in }
        #expect(TimestampOracle.physical(of: first) == 5000)
    }

    @Test("ids are unique and a restarted allocator starts above its persisted mark")
    func idAllocator() {
        var allocator = IDAllocator(persistedLimit: 0, batch: 10)
        var mark: UInt64 = 0
        var seen = Set<UInt64>()
        for count in [1, 3, 20, 1, 1] {
            let first = allocator.next(count: count) { mark = $0 }
            for id in first..<first + UInt64(count) { #expect(seen.insert(id).inserted) }
        }
        #expect(!seen.contains(0))
        var restarted = IDAllocator(persistedLimit: mark, batch: 10)
        let first = restarted.next(count: 1) { _ in }
        #expect(first >= mark)
        #expect(seen.allSatisfy { $0 < first })
    }
}

@Suite("Scheduler service", .timeLimit(.minutes(2)))
struct SchedulerServiceTests {
    static func open(_ directory: TemporaryDirectory, clock: ManualClock, options: SchedulerOptions = SchedulerOptions()) throws -> SchedulerService {
        try SchedulerService(storage: try SchedulerStorage(directory: directory.file("sched")), options: options, clock: clock.clock)
    }

    static func open(_ directory: TemporaryDirectory, clock: ManualClock, maxReplicas: Int) throws -> SchedulerService {
        var options = SchedulerOptions()
        options.maxReplicas = maxReplicas
        return try open(directory, clock: clock, options: options)
    }

    /// Allocates ids and bootstraps with store `storeID`'s first region.
    static func bootstrap(_ service: SchedulerService, address: String = "127.0.0.1:1") throws -> (store: UInt64, region: UInt64, peer: UInt64) {
        let first = try fields(call(service, "ALLOC_ID 3")).number("first")
        let answer = call(service, "BOOTSTRAP store=\(first) address=\(address) region=\(first + 1) peer=\(first + 2)")
        #expect(fields(answer)["cluster_id"] != nil)
        return (first, first + 1, first + 2)
    }

    @Test("TSO never goes back across a restart, even when the wall clock does")
    func timestampsAcrossRestart() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        var last: UInt64 = 0
        do {
            let service = try Self.open(directory, clock: clock)
            for _ in 0..<100 {
                let answer = fields(call(service, "TSO 10"))
                let first = try answer.number("first")
                #expect(first > last)
                #expect(try answer.number("count") == 10)
                last = first + 9
                clock.advance(milliseconds: 7)
            }
        }
        clock.wall.subtract(3_600_000, ordering: .relaxed)  // an hour back
        let service = try Self.open(directory, clock: clock)
        let first = try fields(call(service, "TSO")).number("first")
        #expect(first > last)
        #expect(errorCode(call(service, "TSO 0")) == .badArgument)
        #expect(errorCode(call(service, "TSO 70000")) == .badArgument)
    }

    @Test("the GC safe point only moves forward, never past the oracle, trails the clock by the lifetime, and survives a restart")
    func gcSafePoint() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        var options = SchedulerOptions()
        options.gcLifetime = 0
        do {
            let service = try Self.open(directory, clock: clock, options: options)
            #expect(try fields(call(service, "GC_SAFE_POINT")).number("safe_point") == 0)
            let now = try fields(call(service, "TSO")).number("first")
            #expect(try fields(call(service, "SET_GC_SAFE_POINT \(now)")).number("safe_point") == now)
            #expect(try fields(call(service, "SET_GC_SAFE_POINT \(now - 5)")).number("safe_point") == now)
            #expect(errorCode(call(service, "SET_GC_SAFE_POINT \(now + (100_000 << 18))")) == .badArgument)
            #expect(errorCode(call(service, "SET_GC_SAFE_POINT x")) == .badArgument)
        }
        options.gcLifetime = 60_000
        let service = try Self.open(directory, clock: clock, options: options)
        let kept = try fields(call(service, "GC_SAFE_POINT")).number("safe_point")
        let trailing = (clock.wall.load(ordering: .relaxed) - 60_000) << 18
        #expect(kept == max(trailing, kept) && kept > 0)
        clock.advance(milliseconds: 120_000)
        #expect(try fields(call(service, "GC_SAFE_POINT")).number("safe_point") == (clock.wall.load(ordering: .relaxed) - 60_000) << 18)
    }

    @Test("bootstrap once; stores, regions and the cluster id survive a restart")
    func bootstrapAndRestart() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let clusterID: UInt64
        let ids: (store: UInt64, region: UInt64, peer: UInt64)
        do {
            let service = try Self.open(directory, clock: clock)
            clusterID = service.clusterID
            #expect(errorCode(call(service, "REGION_BY_KEY a")) == .regionNotFound)
            #expect(try fields(call(service, "CLUSTER")).number("bootstrapped") == 0)
            ids = try Self.bootstrap(service)
            #expect(errorCode(call(service, "BOOTSTRAP store=\(ids.store) address=x region=\(ids.region) peer=\(ids.peer)")) == .alreadyBootstrapped)
            let region = fields(call(service, "REGION_BY_KEY anything"))
            #expect(try region.number("id") == ids.region)
            #expect(try region.text("peers") == "\(ids.peer):\(ids.store)")
            #expect(try region.text("leader_address") == "127.0.0.1:1")
            // A second store with its own id joins; one reusing the first store's address is refused.
            let second = try fields(call(service, "ALLOC_ID")).number("first")
            #expect(errorCode(call(service, "PUT_STORE id=\(second) address=127.0.0.1:1")) == .storeConflict)
            #expect(call(service, "PUT_STORE id=\(second) address=127.0.0.1:2") == .ok)
            #expect(errorCode(call(service, "PUT_STORE id=999999 address=127.0.0.1:3")) == .badArgument)
        }
        let service = try Self.open(directory, clock: clock)
        #expect(service.clusterID == clusterID)
        let cluster = fields(call(service, "CLUSTER"))
        #expect(try cluster.number("bootstrapped") == 1)
        #expect(try cluster.number("stores") == 2)
        #expect(try fields(call(service, "REGION_BY_ID \(ids.region)")).number("id") == ids.region)
        guard let stores = call(service, "STORES").recordWords else { Issue.record("STORES gave no records"); return }
        #expect(stores.count == 2)
        #expect(try ProtocolFields(parsing: stores[0]).text("state") == "up")
        // Ids handed out before the restart are never handed out again.
        #expect(try fields(call(service, "ALLOC_ID")).number("first") > ids.peer + 1)
    }

    @Test("region heartbeats: a split replaces the old range, stale epochs are refused, lookups follow")
    func splitHeartbeats() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        var options = SchedulerOptions()
        options.maxReplicas = 1
        let ids: (store: UInt64, region: UInt64, peer: UInt64)
        let newIDs: UInt64
        do {
            let service = try Self.open(directory, clock: clock, options: options)
            ids = try Self.bootstrap(service)
            newIDs = try fields(call(service, "ALLOC_ID 2")).number("first")
            let peers = "peers=\(ids.peer):\(ids.store)"
            // The right half reports first, as a new region with the split's version.
            #expect(call(service, "REGION_HEARTBEAT id=\(newIDs) start=m end= conf_ver=1 version=2 peers=\(newIDs + 1):\(ids.store) leader=\(newIDs + 1)") == .ok)
            #expect(try fields(call(service, "REGION_BY_KEY z")).number("id") == newIDs)
            // The older region it overlaps is dropped (as PD does): the left half is unknown until its leader
            // reports it, and clients back off and retry on REGION_NOT_FOUND meanwhile.
            #expect(errorCode(call(service, "REGION_BY_KEY a")) == .regionNotFound)
            // The old region still claims everything at version 1: refused, as a newer region overlaps it.
            #expect(errorCode(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=1 version=1 \(peers) leader=\(ids.peer)")) == .epochNotMatch)
            #expect(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end=m conf_ver=1 version=2 \(peers) leader=\(ids.peer) size=100 keys=3") == .ok)
            #expect(errorCode(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end=m conf_ver=1 version=1 \(peers) leader=\(ids.peer)")) == .epochNotMatch)
            let left = fields(call(service, "REGION_BY_KEY a"))
            #expect(try left.bytes("end") == Array("m".utf8))
            #expect(try left.number("size") == 100)
            guard let all = call(service, "REGIONS").recordWords else { Issue.record("REGIONS gave no records"); return }
            #expect(try all.map { try ProtocolFields(parsing: $0).number("id") } == [ids.region, newIDs])
            guard let fromM = call(service, "REGIONS m LIMIT 5").recordWords else { Issue.record("no records"); return }
            #expect(try fromM.map { try ProtocolFields(parsing: $0).number("id") } == [newIDs])
        }
        // The shapes survive a restart.
        let restarted = try Self.open(directory, clock: clock, options: options)
        #expect(try fields(call(restarted, "REGION_BY_KEY n")).number("id") == newIDs)
        #expect(try fields(call(restarted, "REGION_BY_KEY b")).bytes("end") == Array("m".utf8))
    }

    @Test("the replica checker adds peers on the emptiest up stores, one operator at a time, until there are enough")
    func replicaChecker() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        let service = try Self.open(directory, clock: clock)
        let ids = try Self.bootstrap(service)
        var stores = [ids.store]
        for port in 2...3 {
            let id = try fields(call(service, "ALLOC_ID")).number("first")
            #expect(call(service, "PUT_STORE id=\(id) address=127.0.0.1:\(port)") == .ok)
            stores.append(id)
        }
        var peers = [(ids.peer, ids.store)]
        var confVersion: UInt64 = 1
        func heartbeat() -> Response {
            let list = peers.map { "\($0.0):\($0.1)" }.joined(separator: ",")
            return call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=\(confVersion) version=1 peers=\(list) leader=\(ids.peer)")
        }
        for round in 0..<2 {
            let first = fields(heartbeat())
            #expect(try first.text("operator") == "add_peer")
            let target = try first.number("store")
            #expect(!peers.contains { $0.1 == target })
            // Until the change shows in a heartbeat, the same operator is repeated.
            let again = fields(heartbeat())
            #expect(try again.number("peer") == first.number("peer"))
            peers.append((try first.number("peer"), target))
            confVersion += 1
            _ = round
        }
        #expect(heartbeat() == .ok)
        #expect(Set(peers.map(\.1)) == Set(stores))
    }

    @Test("a peer on a store down past the max down time is replaced, then removed")
    func downStoreReplaced() throws {
        let directory = TemporaryDirectory()
        let clock = ManualClock()
        var options = SchedulerOptions()
        options.maxReplicas = 2
        options.storeDisconnectTime = 1_000
        options.maxStoreDownTime = 10_000
        let service = try Self.open(directory, clock: clock, options: options)
        let ids = try Self.bootstrap(service)
        let second = try fields(call(service, "ALLOC_ID 3")).number("first")
        #expect(call(service, "PUT_STORE id=\(second) address=127.0.0.1:2") == .ok)
        #expect(call(service, "PUT_STORE id=\(second + 1) address=127.0.0.1:3") == .ok)
        let peers2 = "peers=\(ids.peer):\(ids.store),\(second + 2):\(second)"
        #expect(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=2 version=1 \(peers2) leader=\(ids.peer)") == .ok)
        // Store `second` goes silent; the others keep beating.
        for _ in 0..<12 {
            clock.advance(milliseconds: 1_000)
            #expect(call(service, "STORE_HEARTBEAT id=\(ids.store) regions=1 leaders=1") == .ok)
            #expect(call(service, "STORE_HEARTBEAT id=\(second + 1)") == .ok)
        }
        let storeRecord = fields(call(service, "STORE \(second)"))
        #expect(try storeRecord.text("state") == "down")
        let add = fields(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=2 version=1 \(peers2) leader=\(ids.peer)"))
        #expect(try add.text("operator") == "add_peer")
        #expect(try add.number("store") == second + 1)
        let peers3 = peers2 + ",\(try add.number("peer")):\(second + 1)"
        let remove = fields(call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=3 version=1 \(peers3) leader=\(ids.peer)"))
        #expect(try remove.text("operator") == "remove_peer")
        #expect(try remove.number("peer") == second + 2)
    }

    @Test("a requested leader transfer is answered to the leader until the region reports the new leader")
    func transferLeader() throws {
        let directory = TemporaryDirectory()
        let service = try Self.open(directory, clock: ManualClock(), maxReplicas: 2)
        let ids = try Self.bootstrap(service)
        let second = try fields(call(service, "ALLOC_ID 2")).number("first")
        #expect(call(service, "PUT_STORE id=\(second) address=127.0.0.1:2") == .ok)
        let peers = "peers=\(ids.peer):\(ids.store),\(second + 1):\(second)"
        func heartbeat(leader: UInt64) -> Response {
            call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=2 version=1 \(peers) leader=\(leader)")
        }
        #expect(heartbeat(leader: ids.peer) == .ok)
        #expect(errorCode(call(service, "TRANSFER_LEADER region=\(ids.region) store=999")) == .badArgument)
        #expect(errorCode(call(service, "TRANSFER_LEADER region=999 store=\(second)")) == .regionNotFound)
        #expect(fields(call(service, "TRANSFER_LEADER region=\(ids.region) store=\(ids.store)"))["already"] != nil)
        #expect(call(service, "TRANSFER_LEADER region=\(ids.region) store=\(second)") == .ok)
        #expect(errorCode(call(service, "TRANSFER_LEADER region=\(ids.region) store=\(second)")) == .conflict)
        guard let running = call(service, "OPERATORS").recordWords, running.count == 1 else {
            Issue.record("OPERATORS does not list the transfer")
            return
        }
        #expect(try ProtocolFields(parsing: running[0]).text("kind") == "transfer_leader")
        let answer = fields(heartbeat(leader: ids.peer))
        #expect(try answer.text("operator") == "transfer_leader")
        #expect(try answer.number("peer") == second + 1)
        // The new leader reports: the operator is done.
        #expect(heartbeat(leader: second + 1) == .ok)
        #expect(call(service, "OPERATORS").recordWords?.isEmpty == true)
    }

    @Test("removing the store of a region's leader: a replacement is added, leadership moves, then the peer goes")
    func storeRemoval() throws {
        let directory = TemporaryDirectory()
        let service = try Self.open(directory, clock: ManualClock(), maxReplicas: 2)
        let ids = try Self.bootstrap(service)
        let first = try fields(call(service, "ALLOC_ID 3")).number("first")
        let (second, third, secondPeer) = (first, first + 1, first + 2)
        #expect(call(service, "PUT_STORE id=\(second) address=127.0.0.1:2") == .ok)
        var peers = [(ids.peer, ids.store), (secondPeer, second)]
        var leader = ids.peer
        var confVersion: UInt64 = 2
        func heartbeat() -> Response {
            let list = peers.map { "\($0.0):\($0.1)" }.joined(separator: ",")
            return call(service, "REGION_HEARTBEAT id=\(ids.region) start= end= conf_ver=\(confVersion) version=1 peers=\(list) leader=\(leader)")
        }
        #expect(heartbeat() == .ok)
        // Two stores for two replicas: removing one would leave too few.
        #expect(errorCode(call(service, "REMOVE_STORE id=\(ids.store)")) == .badArgument)
        #expect(call(service, "PUT_STORE id=\(third) address=127.0.0.1:3") == .ok)
        #expect(call(service, "REMOVE_STORE id=\(ids.store)") == .ok)
        #expect(try fields(call(service, "STORE \(ids.store)")).text("state") == "offline")
        // 1. a replacement on the third store
        let add = fields(heartbeat())
        #expect(try add.text("operator") == "add_peer")
        #expect(try add.number("store") == third)
        peers.append((try add.number("peer"), third))
        confVersion += 1
        // 2. the leader sits on the store being removed: leadership moves first
        let transfer = fields(heartbeat())
        #expect(try transfer.text("operator") == "transfer_leader")
        leader = try transfer.number("peer")
        #expect(leader != ids.peer)
        // 3. then the drained peer goes
        let remove = fields(heartbeat())
        #expect(try remove.text("operator") == "remove_peer")
        #expect(try remove.number("peer") == ids.peer)
        peers.removeAll { $0.0 == ids.peer }
        confVersion += 1
        #expect(heartbeat() == .ok)
        #expect(try fields(call(service, "STORE \(ids.store)")).text("state") == "tombstone")
    }

    @Test("bad requests get clear errors and data commands are refused")
    func badRequests() throws {
        let directory = TemporaryDirectory()
        let service = try Self.open(directory, clock: ManualClock())
        #expect(errorCode(call(service, "PUT a b")) == .notSupported)
        #expect(errorCode(call(service, "PUT_STORE id=1")) == .badArgument)
        #expect(errorCode(call(service, "PUT_STORE id=1 address=x")) == .notBootstrapped)
        #expect(errorCode(call(service, "REGION_HEARTBEAT id=1 start= end= conf_ver=1 version=1 peers=1:1 leader=1")) == .notBootstrapped)
        #expect(errorCode(call(service, "BOOTSTRAP store=1 address=x region=2 peer=3")) == .badArgument)
        #expect(errorCode(call(service, "STORE_HEARTBEAT id=5")) == .storeNotFound)
        #expect(errorCode(call(service, "REGION_BY_ID x")) == .badArgument)
        #expect(errorCode(call(service, "STORES extra")) == .wrongArity)
        var options = SchedulerOptions()
        options.maxStoreDownTime = 500
        #expect(throws: SchedulerError.self) { try options.validate() }
    }
}

@Suite("Scheduler protocol")
struct SchedulerProtocolTests {
    @Test("scheduler requests survive encoding and parsing")
    func roundTrip() throws {
        let region = Region(
            id: 9, startKey: [0x00, 0x20, 0x3D], endKey: Array("zz".utf8), epoch: RegionEpoch(confVersion: 4, version: 7),
            peers: [RegionPeer(id: 10, storeID: 1), RegionPeer(id: 11, storeID: 2)])
        let requests: [SchedulerRequest] = [
            .clusterInfo, .allocateIDs(count: 5), .timestamps(count: 1),
            .bootstrap(store: StoreDescriptor(id: 1, address: "/tmp/a b.sock"), regionID: 2, peerID: 3),
            .putStore(StoreDescriptor(id: 4, address: "[::1]:20160")),
            .storeHeartbeat(StoreHeartbeat(storeID: 4, regionCount: 3, leaderCount: 1, capacity: 100, available: 50)),
            .regionHeartbeat(RegionHeartbeat(region: region, leaderPeerID: 11, approximateSize: 1 << 20, approximateKeys: 42)),
            .regionByKey([0xFF, 0x00]), .regionByID(9), .regions(start: [], limit: 10),
            .regions(start: Array("LIMIT".utf8), limit: 5), .stores, .store(4), .transferLeader(regionID: 9, storeID: 2),
            .operators, .removeStore(3),
        ]
        for request in requests {
            let line = Request.scheduler(request).encoded
            #expect(try Request.parse(line.dropLast()) == .scheduler(request))
        }
    }

    @Test("record answers come back as records, short ones through rows")
    func recordAnswers() throws {
        for records in [[["id=1", "address=a", "state=up"], ["id=2", "address=b", "state=down"]], [["id=1"]], []] {
            var assembler = ResponseAssembler()
            var answer: Response?
            let bytes = Response.records(records).encoded
            for line in bytes.split(separator: 0x0A) { answer = try assembler.feed(line) }
            #expect(answer?.recordWords == records)
        }
    }
}
