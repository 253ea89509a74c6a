import KVProtocol

/// Runs the transactional commands of Percolator against a snapshot of the key space.
///
/// A command either fails with nothing to write, or succeeds with the changes to make; the caller applies
/// those changes atomically before running the next command. kvnode runs write commands while it applies the
/// Raft log, so every replica runs them in log order on the same state: the log is the latch that serializes
/// commands on the same keys.
public struct TxnExecutor<Snapshot: MvccSnapshot> {
    /// The snapshot read from.
    public let reader: MvccReader<Snapshot>
    /// The stored keys this node may touch for the request (a region's range): `[lower, upper)`, `upper`
    /// empty for no bound.
    public let lower: [UInt8]
    /// See ``lower``.
    public let upper: [UInt8]

    /// One change to make: a value for a stored key, or nil to delete it.
    public typealias Change = (key: [UInt8], value: [UInt8]?)

    /// The answer to a command and the changes it makes (none when it failed).
    public struct Outcome {
        /// The answer for the client.
        public var response: Response
        /// The changes, in order.
        public var changes: [Change]
    }

    /// Creates an executor over `snapshot`, limited to the stored keys in `[lower, upper)`.
    public init(snapshot: Snapshot, lower: [UInt8] = [], upper: [UInt8] = []) {
        self.reader = MvccReader(snapshot)
        self.lower = lower
        self.upper = upper
    }

    /// Answers a read (`TGET`, `TSCAN`).
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``. Transactional refusals (`LOCKED`) are answers.
    public func read(_ request: TxnRequest) throws -> Response {
        do {
            switch request {
            case .get(let key, let startTS):
                return try reader.value(key, at: startTS).map(Response.value) ?? .notFound
            case .batchGet(let keys, let startTS):
                // Every key within the range (one region's): the node checked the first only.
                for key in keys {
                    let stored = TxnKeys.base(key)
                    if stored.lexicographicallyPrecedes(lower) || (!upper.isEmpty && !stored.lexicographicallyPrecedes(upper)) {
                        throw ProtocolError(.keyNotInRegion, "key \(ProtocolToken.encodeString(key)) of the TMGET is outside the region")
                    }
                }
                var rows: [ScanRow] = []
                rows.reserveCapacity(keys.count)
                var bytes = 0
                for key in keys {
                    let value = try reader.value(key, at: startTS)
                    bytes += key.count + (value?.count ?? 0)
                    // One answer is built in memory: as large as a scan page at most.
                    guard bytes <= ProtocolLimits.maxScanBytes else {
                        throw ProtocolError(.badArgument, "the values of the TMGET exceed \(ProtocolLimits.maxScanBytes) bytes; read fewer keys at once")
                    }
                    rows.append(ScanRow(key: key, value: value))
                }
                return TxnBatchRead(startTS: startTS, rows: rows).response
            case .scan(let scan):
                var from = TxnKeys.base(scan.start)
                if from.lexicographicallyPrecedes(lower) { from = lower }
                var below = scan.end.isEmpty ? [] : TxnKeys.base(scan.end)
                if !upper.isEmpty && (below.isEmpty || upper.lexicographicallyPrecedes(below)) { below = upper }
                let (rows, more) = try reader.scan(from: from, below: below, at: scan.startTS, limit: scan.limit, keysOnly: scan.keysOnly)
                return .rows(rows, more: more)
            default:
                return .error(ProtocolError(.internalError, "a transactional write reached the read path"))
            }
        } catch let error as ProtocolError {
            return .error(error)
        }
    }

    /// Runs a write command.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``. Transactional refusals are answers with no changes.
    public func execute(_ request: TxnRequest) throws -> Outcome {
        var changes: [Change] = []
        do {
            let response: Response
            switch request {
            case .get, .batchGet, .scan:
                return Outcome(response: try read(request), changes: [])
            case .prewrite(let prewrite):
                try self.prewrite(prewrite, into: &changes)
                response = .ok
            case .commitOnePhase(let startTS, let commitTS, let mutations):
                response = try commitOnePhase(startTS: startTS, commitTS: commitTS, mutations: mutations, into: &changes)
            case .commit(let startTS, let commitTS, let keys):
                try commit(startTS: startTS, commitTS: commitTS, keys: keys, into: &changes)
                response = .ok
            case .rollback(let startTS, let keys):
                for key in keys { try rollback(key, startTS: startTS, into: &changes) }
                response = .ok
            case .checkStatus(let primary, let startTS, let currentTS):
                response = try checkStatus(primary: primary, startTS: startTS, currentTS: currentTS, into: &changes)
            case .resolve(let startTS, let commitTS, let keys):
                let targets = keys.isEmpty ? try reader.keysLocked(by: startTS, from: max(lower, TxnKeys.spaceStart), below: upper) : keys
                var resolved = 0
                for key in targets {
                    guard let lock = try reader.lock(key), lock.startTS == startTS else { continue }
                    if commitTS > 0 {
                        commitLocked(key, lock, commitTS: commitTS, into: &changes)
                    } else {
                        rollBackLocked(key, lock, into: &changes)
                    }
                    resolved += 1
                }
                response = .ok(["resolved=\(resolved)"])
            case .gc(let safePoint, let mode, let keys):
                for key in keys {
                    // A lock this old may still decide how its transaction ends: its key's records stay.
                    if let lock = try reader.lock(key), lock.startTS <= safePoint { continue }
                    for stored in try reader.garbage(key, below: safePoint, mode: mode) { changes.append((stored, nil)) }
                }
                response = .ok(["deleted=\(changes.count)"])
            }
            return Outcome(response: response, changes: changes)
        } catch let error as ProtocolError {
            return Outcome(response: .error(error), changes: [])
        }
    }

    // MARK: - Commands

    /// Locks every key of the request and stores its values, or fails for all of them.
    private func prewrite(_ prewrite: TxnPrewrite, into changes: inout [Change]) throws {
        for mutation in prewrite.mutations {
            let key = mutation.key
            if try !reader.hasLockOrWrites(key, since: prewrite.startTS) {
                appendLock(for: mutation, of: prewrite, into: &changes)
                continue
            }
            if let lock = try reader.lock(key) {
                if lock.startTS == prewrite.startTS { continue }  // a retried prewrite: already done
                throw LockInfo(key: key, primary: lock.primary, startTS: lock.startTS, ttl: lock.ttl, kind: lock.kind).error
            }
            for (commitTS, record) in try reader.writes(key, since: prewrite.startTS) {
                if record.kind == .rollback {
                    // Someone rolled this transaction back (a lock resolver, after the TTL): it must not revive.
                    if record.startTS == prewrite.startTS { throw Self.rolledBack(prewrite.startTS, key) }
                    continue
                }
                throw Self.conflict(key, startTS: prewrite.startTS, with: record, committedAt: commitTS)
            }
            appendLock(for: mutation, of: prewrite, into: &changes)
        }
    }

    /// The lock (and the value, for a put) a prewrite leaves on a key.
    private func appendLock(for mutation: TxnMutation, of prewrite: TxnPrewrite, into changes: inout [Change]) {
        let lock = LockRecord(kind: mutation.kind, startTS: prewrite.startTS, ttl: prewrite.ttl, primary: prewrite.primary)
        changes.append((TxnKeys.lock(mutation.key), lock.encoded()))
        if mutation.kind == .put { changes.append((TxnKeys.data(mutation.key, startTS: prewrite.startTS), mutation.value)) }
    }

    /// Prewrite and commit in one: the same refusals as a prewrite, then commit records at `commitTS` instead
    /// of locks. A repeated request (its first answer lost) finds its own records and answers their commit
    /// timestamp.
    private func commitOnePhase(startTS: UInt64, commitTS: UInt64, mutations: [TxnMutation], into changes: inout [Change]) throws -> Response {
        guard commitTS > startTS else {
            throw ProtocolError(.badArgument, "a one-phase commit needs its commit timestamp (the node assigns it)")
        }
        for mutation in mutations {
            let key = mutation.key
            guard try reader.hasLockOrWrites(key, since: startTS) else { continue }
            // Records since the start: its own commit means the request is a repeat (a one-phase commit is all
            // keys or none, so the first key tells) — even under later commits of others, which are conflicts
            // only for a first attempt.
            let since = try reader.writes(key, since: startTS)
            if let (committedAt, own) = since.first(where: { $0.record.startTS == startTS }) {
                if own.kind == .rollback { throw Self.rolledBack(startTS, key) }
                return .ok(["commit_ts=\(committedAt)"])
            }
            if let (committedAt, other) = since.first(where: { $0.record.kind != .rollback }) {
                throw Self.conflict(key, startTS: startTS, with: other, committedAt: committedAt)
            }
            if let lock = try reader.lock(key) {
                // Its own lock (a client mixing PREWRITE and ONE_PC) would stay behind the commit.
                guard lock.startTS != startTS else {
                    throw ProtocolError(
                        .badArgument, "transaction \(startTS) prewrote key \(ProtocolToken.encodeString(key)): finish it with COMMIT or ROLLBACK")
                }
                throw LockInfo(key: key, primary: lock.primary, startTS: lock.startTS, ttl: lock.ttl, kind: lock.kind).error
            }
        }
        for mutation in mutations {
            // A short value goes inside the write record: one stored record per key instead of two.
            let short = mutation.kind == .put && mutation.value.count <= WriteRecord.maxShortValue
            let record = WriteRecord(committing: mutation.kind, startTS: startTS, shortValue: short ? mutation.value : nil)
            changes.append((TxnKeys.write(mutation.key, commitTS: commitTS), record.encoded()))
            if mutation.kind == .put && !short { changes.append((TxnKeys.data(mutation.key, startTS: startTS), mutation.value)) }
        }
        return .ok(["commit_ts=\(commitTS)"])
    }

    /// The refusal of a transaction that was rolled back on `key`.
    private static func rolledBack(_ startTS: UInt64, _ key: [UInt8]) -> ProtocolError {
        ProtocolError(.aborted, "transaction \(startTS) was rolled back on key \(ProtocolToken.encodeString(key))")
    }

    /// The refusal of a write to `key` that another transaction committed after `startTS`.
    private static func conflict(_ key: [UInt8], startTS: UInt64, with record: WriteRecord, committedAt commitTS: UInt64) -> ProtocolError {
        ProtocolError(
            .writeConflict,
            "key=\(ProtocolToken.encodeString(key)) start_ts=\(startTS) conflict_start_ts=\(record.startTS) conflict_commit_ts=\(commitTS)")
    }

    /// Turns the transaction's locks into commit records, or fails for all keys; keys already committed by it
    /// are fine (a commit may be retried).
    private func commit(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]], into changes: inout [Change]) throws {
        for key in keys {
            if let lock = try reader.lock(key), lock.startTS == startTS {
                commitLocked(key, lock, commitTS: commitTS, into: &changes)
                continue
            }
            guard let (_, record) = try reader.ownWrite(key, startTS: startTS) else {
                throw ProtocolError(.txnLockNotFound, "transaction \(startTS) holds no lock on key \(ProtocolToken.encodeString(key)) and did not commit it")
            }
            if record.kind == .rollback { throw Self.rolledBack(startTS, key) }
        }
    }

    /// Rolls the transaction back on `key`: drops its lock and value, and leaves a rollback record even where
    /// it never locked the key, so that a prewrite arriving late fails.
    private func rollback(_ key: [UInt8], startTS: UInt64, into changes: inout [Change]) throws {
        if let lock = try reader.lock(key), lock.startTS == startTS {
            rollBackLocked(key, lock, into: &changes)
            return
        }
        if let (commitTS, record) = try reader.ownWrite(key, startTS: startTS) {
            if record.kind == .rollback { return }
            throw ProtocolError(.alreadyCommitted, "transaction \(startTS) committed key \(ProtocolToken.encodeString(key)) at \(commitTS)")
        }
        changes.append((TxnKeys.write(key, commitTS: startTS), WriteRecord(kind: .rollback, startTS: startTS).encoded()))
    }

    /// The state of the transaction whose primary is `primary`: rolled back once its lock's TTL ran out by
    /// `currentTS`, or when it never prewrote the primary (a rollback record then stops a late prewrite).
    private func checkStatus(primary: [UInt8], startTS: UInt64, currentTS: UInt64, into changes: inout [Change]) throws -> Response {
        if let lock = try reader.lock(primary), lock.startTS == startTS {
            let (expiresAt, overflow) = TimestampOracle.physical(of: startTS).addingReportingOverflow(lock.ttl)
            if overflow { return .ok(["status=locked", "ttl=\(lock.ttl)", "ttl_left_ms=\(UInt64.max)"]) }
            let now = TimestampOracle.physical(of: currentTS)
            if now >= expiresAt {
                rollBackLocked(primary, lock, into: &changes)
                return .ok(["status=rolled_back"])
            }
            return .ok(["status=locked", "ttl=\(lock.ttl)", "ttl_left_ms=\(expiresAt - now)"])
        }
        if let (commitTS, record) = try reader.ownWrite(primary, startTS: startTS) {
            return record.kind == .rollback ? .ok(["status=rolled_back"]) : .ok(["status=committed", "commit_ts=\(commitTS)"])
        }
        changes.append((TxnKeys.write(primary, commitTS: startTS), WriteRecord(kind: .rollback, startTS: startTS).encoded()))
        return .ok(["status=rolled_back"])
    }

    private func commitLocked(_ key: [UInt8], _ lock: LockRecord, commitTS: UInt64, into changes: inout [Change]) {
        changes.append((TxnKeys.write(key, commitTS: commitTS), WriteRecord(committing: lock.kind, startTS: lock.startTS).encoded()))
        changes.append((TxnKeys.lock(key), nil))
    }

    private func rollBackLocked(_ key: [UInt8], _ lock: LockRecord, into changes: inout [Change]) {
        changes.append((TxnKeys.lock(key), nil))
        if lock.kind == .put { changes.append((TxnKeys.data(key, startTS: lock.startTS), nil)) }
        changes.append((TxnKeys.write(key, commitTS: lock.startTS), WriteRecord(kind: .rollback, startTS: lock.startTS).encoded()))
    }
}

private func max(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] { a.lexicographicallyPrecedes(b) ? b : a }
