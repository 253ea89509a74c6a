import KVProtocol
import Txn

#if canImport(Glibc)
import Glibc
#endif

/// The raw key-value API of a cluster: finds each key's region and leader through the scheduler, caches
/// them, follows `NOT_LEADER` hints, and retries with backoff on region errors and unreachable nodes until
/// the request's deadline.
///
/// A write whose answer is lost after it was sent (connection broken, leadership changed, deadline passed)
/// is never retried blindly — a second copy could land after someone else's write — and fails with
/// ``KVClientError/Kind/outcomeUnknown``. Reads and writes that certainly did not run are retried.
///
/// ```swift
/// let cluster = try ClusterClient(scheduler: try NodeAddress(parsing: "127.0.0.1:20100"))
/// try cluster.put(Array("k".utf8), Array("v".utf8))
/// ```
public final class ClusterClient {
    /// The scheduler's address.
    public let schedulerAddress: NodeAddress
    /// Seconds a request may take, retries included.
    public let deadline: Double
    private var scheduler: SchedulerClient?
    /// Regions by id, with the leader address last learned.
    private var regions: [UInt64: SchedulerClient.RegionRecord] = [:]
    private var connections: [String: LineConnection] = [:]

    /// Creates a client; connects lazily.
    ///
    /// - Parameters:
    ///   - scheduler: The scheduler's address.
    ///   - deadline: Seconds each request may take in all.
    public init(scheduler: NodeAddress, deadline: Double = 10) {
        self.schedulerAddress = scheduler
        self.deadline = deadline
    }

    // MARK: - Routing

    /// Sends a request to the leader of the region holding its key (keyless requests — `PING`, `HELLO`,
    /// `STATS` — go to the scheduler), retrying as described above.
    public func call(_ request: Request) throws(KVClientError) -> Response {
        try call(request, routingKey: request.routingKey)
    }

    /// Sends `request` to the leader of the region holding `routingKey` (the scheduler when nil; the last
    /// region when empty and the request is a reverse scan).
    ///
    /// With `sameRegion` (the routing keys of a transactional request's keys), the request is refused at once
    /// with `KEY_NOT_IN_REGION` — not retried — when the region found no longer holds them all (it split), so
    /// that the caller regroups its keys. With `within` (the region a scan page was bounded to), it is refused
    /// the same way when the region found no longer has that range, so that the caller bounds the page again.
    func call(
        _ request: Request, routingKey: [UInt8]?, sameRegion: [[UInt8]] = [], within: Region? = nil
    ) throws(KVClientError) -> Response {
        guard let key = routingKey else {
            return try withScheduler { (scheduler) throws(KVClientError) in
                let response = try scheduler.connection.call(request)
                if case .error(let error) = response { throw KVClientError(error) }
                return response
            }
        }
        let end = monotonicNow() + deadline
        var backoff = 0.02
        var lastError = KVClientError(.timeout, "no leader answered within \(deadline) s")
        while monotonicNow() < end {
            let region: SchedulerClient.RegionRecord
            do {
                region = try route(key, last: key.isEmpty && request.isReverseScan)
            } catch {
                lastError = error
                if !error.isConnectionFailure && error.kind != .server(.regionNotFound) && error.kind != .server(.notBootstrapped) {
                    throw error
                }
                sleep(&backoff, until: end)
                continue
            }
            if !sameRegion.allSatisfy(region.region.contains) {
                throw KVClientError(.server(.keyNotInRegion), "KEY_NOT_IN_REGION the keys of the request now lie in several regions")
            }
            if let within, region.region.startKey != within.startKey || region.region.endKey != within.endKey {
                throw KVClientError(.server(.keyNotInRegion), "KEY_NOT_IN_REGION the region the request was bounded to changed")
            }
            guard !region.leaderAddress.isEmpty else {
                forget(region.region.id)
                sleep(&backoff, until: end)
                continue
            }
            let connection: LineConnection
            do {
                connection = try connect(region.leaderAddress)
            } catch {
                lastError = error
                forget(region.region.id)
                sleep(&backoff, until: end)
                continue
            }
            // Sent: from here on a lost answer leaves a write's outcome unknown.
            let response: Response
            do {
                // With the region's epoch, so that a node whose region changed refuses instead of guessing.
                try connection.send(.inRegion(RegionContext(region.region), request))
                response = try connection.readResponse()
            } catch {
                connections[region.leaderAddress] = nil
                forget(region.region.id)
                if request.isWrite {
                    throw KVClientError(.outcomeUnknown, "the write was sent to \(region.leaderAddress) but no answer came (\(error.message)); it may or may not have been applied")
                }
                lastError = error
                sleep(&backoff, until: end)
                continue
            }
            guard case .error(let error) = response else { return response }
            switch error.code {
            case .notLeader:
                let hint = (try? ProtocolFields(parsing: error.message.split(separator: " ").prefix(3).map { Array($0.utf8)[...] })) ?? ProtocolFields()
                if let address = hint["leader_address"].map({ String(decoding: $0, as: UTF8.self) }), !address.isEmpty,
                    address != region.leaderAddress, var known = regions[region.region.id]
                {
                    known.leaderAddress = address
                    known.leaderStoreID = (try? hint.number("leader_store")) ?? 0
                    regions[region.region.id] = known
                } else {
                    forget(region.region.id)
                    sleep(&backoff, until: end)
                }
                lastError = KVClientError(error)
            case .epochNotMatch:
                // The error carries the region as the node knows it now, and the regions split off it: use them
                // without asking the scheduler (their leader is most likely this node too; NOT_LEADER corrects).
                let current = Self.regions(in: error.message)
                if let first = current.first, first.id == region.region.id,
                    first.epoch.version >= region.region.epoch.version, first.epoch.confVersion >= region.region.epoch.confVersion
                {
                    for fresh in current {
                        for (id, known) in regions where overlaps(known.region, fresh) { regions[id] = nil }
                        var updated = region
                        updated.region = fresh
                        regions[fresh.id] = updated
                    }
                } else {
                    forget(region.region.id)
                    sleep(&backoff, until: end)
                }
                lastError = KVClientError(error)
            case .keyNotInRegion, .regionNotFound, .serverBusy, .shuttingDown, .staleCommand:
                forget(region.region.id)
                lastError = KVClientError(error)
                sleep(&backoff, until: end)
            case .outcomeUnknown:
                throw KVClientError(.outcomeUnknown, error.message)
            default:
                throw KVClientError(error)
            }
        }
        // Every write that was sent and not answered has thrown `outcomeUnknown` already: what is left was
        // refused, or never reached a leader.
        throw lastError
    }

    /// The regions at the start of an `EPOCH_NOT_MATCH` message: groups of `name=value` words, each starting
    /// with `id=`.
    static func regions(in message: String) -> [Region] {
        var groups: [[ArraySlice<UInt8>]] = []
        for word in message.split(separator: " ").prefix(while: { $0.contains("=") }) {
            if word.hasPrefix("id=") || groups.isEmpty { groups.append([]) }
            groups[groups.count - 1].append(Array(word.utf8)[...])
        }
        return groups.compactMap { words in (try? ProtocolFields(parsing: words)).flatMap { try? Region(fields: $0) } }
    }

    /// Answers `requests` in order, sending those about keys pipelined per node: the requests bound for one
    /// leader go out together on its connection (as cached), each with its region's context and grouped by
    /// region — the node submits each region's run on its own — then their answers are read; then the next
    /// node's. A request refused for routing (`NOT_LEADER`, `EPOCH_NOT_MATCH`, ...) is sent again on its own
    /// through ``call(_:)`` — unless a later request of the same batch is about the same key, whose order it
    /// must not overtake: then the refusal is its answer. Scans, splits and requests about no key go through
    /// ``call(_:)`` alone, after the requests before them and before those after them. A write whose answer
    /// is lost is `outcomeUnknown`, never resent.
    public func callPipelined(_ requests: [Request]) -> [Result<Response, KVClientError>] {
        var results = [Result<Response, KVClientError>?](repeating: nil, count: requests.count)
        var start = 0
        while start < requests.count {
            var end = start
            while end < requests.count, requests[end].routingKey != nil, !requests[end].isScan, !requests[end].goesAlone {
                end += 1
            }
            pipeline(requests, start..<end, into: &results)
            if end < requests.count {
                results[end] = Result { () throws(KVClientError) in try call(requests[end]) }
                end += 1
            }
            start = end
        }
        return results.map { $0! }
    }

    /// ``callPipelined(_:)`` for a run of requests about keys: every one answered when it returns.
    private func pipeline(_ requests: [Request], _ run: Range<Int>, into results: inout [Result<Response, KVClientError>?]) {
        var groups: [(address: String, items: [(index: Int, context: RegionContext)])] = []
        var groupOfAddress: [String: Int] = [:]
        var firstSeen: [UInt64: Int] = [:]
        // Each key routed once (the cache may change while the run is routed): the requests about one key go
        // out together in order, or all wait for the retries after the run.
        var routeOfKey: [[UInt8]: SchedulerClient.RegionRecord?] = [:]
        for index in run {
            guard let key = requests[index].routingKey else { continue }
            let routed = routeOfKey[key] ?? { () -> SchedulerClient.RegionRecord? in
                let found = try? route(key)
                routeOfKey[key] = .some(found)
                return found
            }()
            guard let region = routed, !region.leaderAddress.isEmpty else { continue }
            let group = groupOfAddress[region.leaderAddress] ?? {
                groups.append((region.leaderAddress, []))
                groupOfAddress[region.leaderAddress] = groups.count - 1
                return groups.count - 1
            }()
            if firstSeen[region.region.id] == nil { firstSeen[region.region.id] = index }
            groups[group].items.append((index, RegionContext(region.region)))
        }
        for var group in groups {
            // Each region's requests together (a key stays in input order: it has one region).
            group.items.sort { (firstSeen[$0.context.regionID]!, $0.index) < (firstSeen[$1.context.regionID]!, $1.index) }
            guard let connection = try? connect(group.address) else { continue }
            var sent = 0
            for item in group.items {
                do {
                    try connection.send(.inRegion(item.context, requests[item.index]))
                    sent += 1
                } catch {
                    break
                }
            }
            var broken = sent < group.items.count
            if broken { connections[group.address] = nil }
            var answers = [Response?](repeating: nil, count: group.items.count)
            for (position, item) in group.items.enumerated() {
                let request = requests[item.index]
                let lost = KVClientError(
                    .outcomeUnknown, "the write was sent to \(group.address) but no answer came; it may or may not have been applied")
                if broken || position >= sent {
                    // Unanswered: a write that went out (or partly) has an unknown outcome; the rest is retried.
                    if request.isWrite && position <= sent { results[item.index] = .failure(lost) }
                    continue
                }
                do {
                    answers[position] = try connection.readResponse()
                } catch {
                    broken = true
                    connections[group.address] = nil
                    if request.isWrite { results[item.index] = .failure(lost) }
                }
            }
            func refused(_ position: Int) -> Bool {
                if case .error(let error) = answers[position], Self.isRoutingRefusal(error.code) { return true }
                return false
            }
            for (position, answer) in answers.enumerated() where answer != nil && !refused(position) {
                results[group.items[position].index] = .success(answer!)
            }
            // A refused request is sent again on its own, after the run's other groups, in input order; the
            // later requests about the same key that succeeded must not appear to precede it: reads are sent
            // again after it too, and if a later write already applied, the refusal stands as the answer.
            for position in answers.indices where refused(position) {
                let item = group.items[position]
                forget(item.context.regionID)
                let key = requests[item.index].routingKey
                let later = answers.indices.filter { $0 > position && requests[group.items[$0].index].routingKey == key }
                if later.contains(where: { requests[group.items[$0].index].isWrite && answers[$0] != nil && !refused($0) }) {
                    results[item.index] = .success(answers[position]!)
                    continue
                }
                for laterPosition in later where !requests[group.items[laterPosition].index].isWrite {
                    results[group.items[laterPosition].index] = nil
                }
            }
        }
        for index in run where results[index] == nil {
            results[index] = Result { () throws(KVClientError) in try call(requests[index]) }
        }
    }

    /// Refusals that say the request went to the wrong place (or too early) and had no effect.
    static func isRoutingRefusal(_ code: ErrorCode) -> Bool {
        [.notLeader, .epochNotMatch, .keyNotInRegion, .regionNotFound, .serverBusy, .shuttingDown, .staleCommand].contains(code)
    }

    /// ``route(_:last:)``, retried with backoff until the deadline while the scheduler cannot be reached or
    /// knows no region for the key yet (right after a split, until the new region's leader reports it).
    func routeRetrying(_ key: [UInt8], last: Bool) throws(KVClientError) -> SchedulerClient.RegionRecord {
        let end = monotonicNow() + deadline
        var backoff = 0.02
        while true {
            do {
                return try route(key, last: last)
            } catch {
                let retryable = error.isConnectionFailure || error.kind == .server(.regionNotFound) || error.kind == .server(.notBootstrapped)
                guard retryable, monotonicNow() < end else { throw error }
                sleep(&backoff, until: end)
            }
        }
    }

    /// The region holding `key`, from the cache or the scheduler.
    func route(_ key: [UInt8], last: Bool = false) throws(KVClientError) -> SchedulerClient.RegionRecord {
        if last, let cached = regions.values.first(where: { $0.region.endKey.isEmpty }) { return cached }
        if !last, let cached = regions.values.first(where: { $0.region.contains(key) }) { return cached }
        let found = try withScheduler { (scheduler) throws(KVClientError) -> SchedulerClient.RegionRecord in
            if last {
                guard let final = try scheduler.regions(from: [], limit: ProtocolLimits.maxScanLimit).last else {
                    throw KVClientError(.server(.regionNotFound), "the scheduler knows no regions")
                }
                return final
            }
            return try scheduler.region(containing: key)
        }
        for (id, known) in regions where known.region.id != found.region.id && overlaps(known.region, found.region) {
            regions[id] = nil
        }
        regions[found.region.id] = found
        return found
    }

    private func overlaps(_ a: Region, _ b: Region) -> Bool {
        (b.endKey.isEmpty || a.startKey.lexicographicallyPrecedes(b.endKey))
            && (a.endKey.isEmpty || b.startKey.lexicographicallyPrecedes(a.endKey))
    }

    private func forget(_ regionID: UInt64) {
        regions[regionID] = nil
    }

    private func connect(_ address: String) throws(KVClientError) -> LineConnection {
        if let open = connections[address] {
            // An idle pooled connection has nothing to read unless the node closed it (restarted, say).
            if !open.stream.isClosedByPeer && open.stream.unreadCount == 0 { return open }
            connections[address] = nil
        }
        let connection = try LineConnection(to: try NodeAddress(parsing: address), timeout: max(1, deadline))
        connections[address] = connection
        return connection
    }

    func withScheduler<T>(_ body: (SchedulerClient) throws(KVClientError) -> T) throws(KVClientError) -> T {
        for attempt in 0..<2 {
            let client: SchedulerClient
            if let scheduler {
                client = scheduler
            } else {
                client = try SchedulerClient(address: schedulerAddress, timeout: max(1, deadline))
                scheduler = client
            }
            do {
                return try body(client)
            } catch {
                if error.isConnectionFailure && attempt == 0 {
                    scheduler = nil
                    continue
                }
                throw error
            }
        }
        throw KVClientError(.unreachable, "scheduler at \(schedulerAddress) is unreachable")
    }

    private func sleep(_ backoff: inout Double, until end: Double) {
        let pause = min(backoff, max(0, end - monotonicNow()))
        usleep(UInt32(pause * 1_000_000))
        backoff = min(backoff * 2, 0.5)
    }

    // MARK: - The raw API

    public func get(_ key: [UInt8]) throws(KVClientError) -> [UInt8]? {
        switch try call(.get(key: key)) {
        case .value(let value): return value
        case .notFound: return nil
        default: throw KVClientError(.badResponse, "unexpected answer to GET")
        }
    }

    public func put(_ key: [UInt8], _ value: [UInt8]) throws(KVClientError) {
        guard case .ok = try call(.put(key: key, value: value)) else { throw KVClientError(.badResponse, "unexpected answer to PUT") }
    }

    @discardableResult
    public func delete(_ key: [UInt8]) throws(KVClientError) -> Bool {
        guard case .ok(let words) = try call(.delete(key: key)) else { throw KVClientError(.badResponse, "unexpected answer to DEL") }
        return words.first == "1"
    }

    /// Splits the region holding `key` so that a new region starts at `key`, and returns the two regions
    /// (left, right) as the leader reports them after the split applied. Splitting where a region already
    /// starts changes nothing and returns the regions as they are.
    public func split(at key: [UInt8]) throws(KVClientError) -> [Region] {
        guard case .records(let records) = try call(.split(key: key)) else {
            throw KVClientError(.badResponse, "unexpected answer to SPLIT")
        }
        return try records.map { (words) throws(KVClientError) -> Region in
            do {
                return try Region(fields: try ProtocolFields(parsing: words.map { Array($0.utf8)[...] }))
            } catch {
                throw KVClientError(.badResponse, "undecodable region in the answer to SPLIT: \(words.joined(separator: " "))")
            }
        }
    }

    /// Scans a range region by region, in order, each key once.
    public func scan(
        _ request: ScanRequest, maxRows: Int? = nil, _ body: (ScanRow) throws(KVClientError) -> Bool
    ) throws(KVClientError) {
        var remaining = maxRows ?? .max
        var page = request
        var pageDeadline = monotonicNow() + deadline
        while remaining > 0 {
            // One page from the region holding the page's first key (forward) or last key (reverse).
            let probe = request.reverse ? (page.end.isEmpty ? [] : predecessorProbe(page.end)) : page.start
            let region = try routeRetrying(probe, last: request.reverse && page.end.isEmpty)
            var bounded = page
            bounded.limit = min(request.limit, remaining)
            if !request.reverse, !region.region.endKey.isEmpty, page.end.isEmpty || region.region.endKey.lexicographicallyPrecedes(page.end) {
                bounded.end = region.region.endKey
            }
            if request.reverse, !region.region.startKey.isEmpty, page.start.lexicographicallyPrecedes(region.region.startKey) {
                bounded.start = region.region.startKey
            }
            // Bounded to the region as routed: if the region splits or merges while the page is retried, the
            // page is bounded again rather than sent to a region that does not hold all of it.
            let response: Response
            do {
                response = try call(.scan(bounded), routingKey: probe, within: region.region)
            } catch where error.kind == .server(.keyNotInRegion) && monotonicNow() < pageDeadline {
                continue
            }
            guard case .rows(let rows, let more) = response else {
                throw KVClientError(.badResponse, "unexpected answer to SCAN")
            }
            pageDeadline = monotonicNow() + deadline
            for row in rows {
                if try !body(row) { return }
            }
            remaining -= rows.count
            if more, let last = rows.last {
                if request.reverse { page.end = last.key } else { page.start = last.key + [0] }
                continue
            }
            // This region is done: go on to the next one, if the range goes on.
            if request.reverse {
                guard bounded.start != page.start else { return }
                page.end = bounded.start
            } else {
                guard bounded.end != page.end, !bounded.end.isEmpty else { return }
                page.start = bounded.end
            }
        }
    }

    /// A key just before `key` for routing a reverse page (the region holding the range's last key).
    private func predecessorProbe(_ key: [UInt8]) -> [UInt8] {
        var probe = key
        if probe.last == 0 { probe.removeLast(); return probe }
        probe[probe.count - 1] -= 1
        return probe + [0xFF]
    }
}

extension ClusterClient: KeyValueClient {}

// MARK: - Sendable

// Used by one thread at a time.
extension ClusterClient: @unchecked Sendable {}

extension Request {
    /// The key that decides which region a request goes to; nil for requests about no key.
    var routingKey: [UInt8]? {
        switch self {
        case .get(let key), .put(let key, _), .delete(let key), .split(let key): key
        case .scan(let scan): scan.reverse ? scan.end : scan.start
        case .txn(let request): request.keys.first.map(TxnKeys.base)
        default: nil
        }
    }

    var isScan: Bool {
        if case .scan = self { return true }
        return false
    }

    /// Whether it must travel alone: a node refuses a `SPLIT` pipelined with other requests.
    var goesAlone: Bool {
        if case .split = self { return true }
        return false
    }

    var isReverseScan: Bool {
        if case .scan(let scan) = self { return scan.reverse }
        return false
    }
}

func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
