import KVProtocol

/// One snapshot-isolated transaction: reads see the data as of ``startTS`` (and the transaction's own
/// writes); writes are buffered and made durable together by ``commit()``, or not at all.
///
/// Commit is Percolator's: prewrite every key (the first in key order is the primary) region by region,
/// take a commit timestamp, commit the primary's region — the moment the transaction commits — then the
/// secondaries in the background.
public final class Transaction {
    /// The snapshot's timestamp, and the transaction's identity.
    public let startTS: UInt64
    private let client: TxnClient
    private var writes: [ByteKey: TxnMutation] = [:]
    /// Whether ``commit()`` or ``rollback()`` ended it.
    public private(set) var isFinished = false
    /// Finished transactions' locks settled by a one-phase commit before it went through.
    private var locksSettled = 0

    init(client: TxnClient, startTS: UInt64) {
        self.client = client
        self.startTS = startTS
    }

    /// The value of `key` in the snapshot, after this transaction's own writes.
    ///
    /// - Throws: ``KVClientError``; `LOCKED` when another transaction's lock on the key stays alive past the
    ///   client's deadline.
    public func get(_ key: [UInt8]) throws(KVClientError) -> [UInt8]? {
        if let own = writes[ByteKey(key)] { return own.kind == .put ? own.value : nil }
        switch try client.read(.get(key: key, startTS: startTS)) {
        case .value(let value): return value
        case .notFound: return nil
        default: throw KVClientError(.badResponse, "unexpected answer to TGET")
        }
    }

    /// The values of `keys` in the snapshot, after this transaction's own writes, read with one round trip
    /// (per region) where no lock is in the way.
    ///
    /// - Throws: As ``get(_:)``.
    public func get(_ keys: [[UInt8]]) throws(KVClientError) -> [[UInt8]?] {
        let stored = keys.filter { writes[ByteKey($0)] == nil }
        let answers = client.transport.sendReads(stored.map { .get(key: $0, startTS: startTS) })
        var found: [[UInt8]: [UInt8]?] = [:]
        for (key, answer) in zip(stored, answers) {
            switch answer {
            case .success(.value(let value)): found[key] = .some(value)
            case .success(.notFound): found[key] = .some(nil)
            case .success: throw KVClientError(.badResponse, "unexpected answer to TGET")
            case .failure(let error) where error.kind == .server(.locked) || error.kind == .server(.serverBusy):
                found[key] = .some(try get(key))  // one at a time, resolving the lock or waiting for a commit
            case .failure(let error) where error.isConnectionFailure || error.kind == .outcomeUnknown:
                client.transportFailed()
                found[key] = .some(try get(key))
            case .failure(let error): throw error
            }
        }
        return try keys.map { (key) throws(KVClientError) -> [UInt8]? in
            if let own = writes[ByteKey(key)] { return own.kind == .put ? own.value : nil }
            if let value = found[key] { return value }
            return try get(key)
        }
    }

    /// The rows of `[start, end)` in the snapshot (end empty: no end), after this transaction's own writes,
    /// at most `limit`.
    ///
    /// - Throws: ``KVClientError``.
    public func scan(from start: [UInt8], to end: [UInt8] = [], limit: Int = ProtocolLimits.defaultScanLimit) throws(KVClientError) -> [ScanRow] {
        var stored: [ScanRow] = []
        var page = TxnScan(start: start, end: end, startTS: startTS, limit: min(limit + writes.count, ProtocolLimits.maxScanLimit))
        while stored.count < limit + writes.count {
            let (rows, next) = try client.scanPage(page)
            stored += rows
            guard let next else { break }
            page.start = next
        }
        var merged: [[UInt8]: [UInt8]] = [:]
        for row in stored { merged[row.key] = row.value ?? [] }
        for mutation in writes.values where !mutation.key.lexicographicallyPrecedes(start) && (end.isEmpty || mutation.key.lexicographicallyPrecedes(end)) {
            merged[mutation.key] = mutation.kind == .put ? mutation.value : nil
        }
        return merged.keys.sorted { $0.lexicographicallyPrecedes($1) }.prefix(limit).map { ScanRow(key: $0, value: merged[$0]) }
    }

    /// Buffers a write of `value` under `key`.
    public func put(_ key: [UInt8], _ value: [UInt8]) {
        writes[ByteKey(key)] = TxnMutation(.put, key: key, value: value)
    }

    /// Buffers the removal of `key`.
    public func delete(_ key: [UInt8]) {
        writes[ByteKey(key)] = TxnMutation(.delete, key: key)
    }

    /// Makes every buffered write durable at one commit timestamp, or none of them.
    ///
    /// - Returns: The commit timestamp (the start timestamp for a transaction that wrote nothing).
    /// - Throws: ``KVClientError``: `WRITE_CONFLICT` when another transaction committed one of the keys after
    ///   this one started, or holds a lock on one and is still running; `ABORTED` when a lock resolver rolled this one back (its locks outlived their TTL);
    ///   others when the cluster could not be reached — the transaction is then rolled back, except when the
    ///   commit of the primary was sent and no answer came (`OUTCOME_UNKNOWN`).
    @discardableResult
    public func commit() throws(KVClientError) -> UInt64 {
        precondition(!isFinished, "the transaction is finished")
        isFinished = true
        guard !writes.isEmpty else { return startTS }
        let mutations = writes.values.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        let keys = mutations.map(\.key)
        let primary = keys[0]
        if client.onePhaseCommit, let groups = try? client.transport.groupByRegion(keys), groups.count == 1 {
            do throws(KVClientError) {
                let response = try client.send(.commitOnePhase(startTS: startTS, commitTS: 0, mutations: mutations))
                guard case .ok(let words) = response,
                    let commitTS = words.first(where: { $0.hasPrefix("commit_ts=") }).flatMap({ UInt64($0.dropFirst(10)) })
                else { throw KVClientError(.badResponse, "unexpected answer to ONE_PC: \(response)") }
                return commitTS
            } catch where error.kind == .server(.notSupported) {
                client.onePhaseCommit = false  // a cluster node: two phases from now on
            } catch where error.kind == .server(.locked) {
                // Someone else's lock: settle it if its transaction is over; a live one is a conflict.
                locksSettled += 1
                try settle(error, give: locksSettled > 16)
                isFinished = false
                return try commit()
            } catch where error.kind == .outcomeUnknown {
                throw KVClientError(.outcomeUnknown, "the commit of transaction \(startTS) was sent but no answer came: it may or may not have committed (\(error.message))")
            }
        }
        do {
            try prewrite(keys, primary: primary)
        } catch {
            rollBack(keys)
            throw error
        }
        let commitTS: UInt64
        do {
            commitTS = try client.timestamp()
        } catch {
            rollBack(keys)
            throw error
        }
        // The primary's region in one request: the transaction commits when it applies.
        var primaryGroup = (try? client.transport.groupByRegion(keys).first) ?? [primary]
        if primaryGroup.first != primary { primaryGroup = [primary] }
        let committed = try commitPrimary(primaryGroup, commitTS: commitTS)
        client.commitSecondaries(startTS: startTS, commitTS: commitTS, keys: keys.filter { !committed.contains($0) })
        return commitTS
    }

    /// Drops the buffered writes; nothing was sent, so nothing is left behind.
    public func rollback() {
        isFinished = true
        writes = [:]
    }

    // MARK: - Two-phase commit

    private func prewrite(_ keys: [[UInt8]], primary: [UInt8]) throws(KVClientError) {
        var pending = try client.transport.groupByRegion(keys)
        let end = monotonicNow() + client.deadline
        while let group = pending.first {
            let request = TxnRequest.prewrite(TxnPrewrite(
                primary: primary, startTS: startTS, ttl: client.lockTTL, mutations: group.map { writes[ByteKey($0)]! }))
            do {
                _ = try client.send(request)
                pending.removeFirst()
            } catch where error.kind == .server(.locked) {
                // An abandoned or finished transaction's lock is cleared and the prewrite tried again; a live
                // one is a conflict: waiting for it could deadlock two transactions locking in other orders.
                try settle(error)
            } catch where error.kind == .server(.keyNotInRegion) && monotonicNow() < end {
                // A split cut the group: prewrite its keys by their new regions.
                pending.replaceSubrange(0..<1, with: try client.transport.groupByRegion(group))
            }
        }
    }

    /// Commits the primary's group, asking again while the answer is lost (a commit may be repeated).
    ///
    /// - Returns: The keys committed.
    private func commitPrimary(_ group: [[UInt8]], commitTS: UInt64) throws(KVClientError) -> [[UInt8]] {
        var group = group
        while true {
            do {
                _ = try client.send(.commit(startTS: startTS, commitTS: commitTS, keys: group))
                return group
            } catch where error.kind == .server(.keyNotInRegion) && group.count > 1 {
                group = [group[0]]
            } catch where error.kind == .outcomeUnknown || error.isConnectionFailure {
                throw KVClientError(.outcomeUnknown, "the commit of transaction \(startTS) was sent but no answer came: it may or may not have committed (\(error.message))")
            }
        }
    }

    /// Settles the lock a `LOCKED` refusal names if its transaction is over (so the write can be tried again);
    /// a live one — or any, with `give` — is a write conflict: waiting for it could deadlock two transactions
    /// locking keys in opposite orders.
    ///
    /// - Throws: ``KVClientError``: `WRITE_CONFLICT`, or a failure to reach the nodes.
    private func settle(_ refusal: KVClientError, give: Bool = false) throws(KVClientError) {
        let lock = try TxnClient.lockInfo(in: refusal)
        guard !give, try client.resolve(lock) else {
            throw KVClientError(
                .server(.writeConflict),
                "WRITE_CONFLICT key \(ProtocolToken.encodeString(lock.key)) is locked by transaction \(lock.startTS), still running")
        }
    }

    /// Best effort: removes the locks a failed commit left (readers would otherwise wait out their TTL).
    private func rollBack(_ keys: [[UInt8]]) {
        guard let groups = try? client.transport.groupByRegion(keys) else { return }
        for group in groups { _ = try? client.transport.send(.rollback(startTS: startTS, keys: group)) }
    }
}
