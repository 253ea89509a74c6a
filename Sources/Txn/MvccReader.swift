import KVProtocol

/// A consistent view of the store's key space that MVCC reads from.
public protocol MvccSnapshot {
    /// The value stored under `key`, or nil.
    func get(_ key: [UInt8]) throws -> [UInt8]?
    /// The first stored pair whose key is at least `lower` and below `upper` (no bound when `upper` is empty).
    func first(from lower: [UInt8], below upper: [UInt8]) throws -> (key: [UInt8], value: [UInt8])?
}

/// Reads transactional records out of a snapshot: a key's lock, its commit and rollback records, and the
/// version visible at a timestamp.
public struct MvccReader<Snapshot: MvccSnapshot> {
    /// The view read from.
    public let snapshot: Snapshot

    /// Reads from `snapshot`.
    public init(_ snapshot: Snapshot) { self.snapshot = snapshot }

    /// The lock on `key`, if any.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func lock(_ key: [UInt8]) throws -> LockRecord? {
        try snapshot.get(TxnKeys.lock(key)).map { bytes throws(TxnCorruption) in try LockRecord(decoding: bytes) }
    }

    /// The newest write record of `key` committed at or before `timestamp`, with its commit timestamp.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func write(_ key: [UInt8], atOrBefore timestamp: UInt64) throws -> (commitTS: UInt64, record: WriteRecord)? {
        let upper = TxnKeys.versioned(TxnKeys.base(key), .write, 0) + [0]
        guard let row = try snapshot.first(from: TxnKeys.write(key, commitTS: timestamp), below: upper) else { return nil }
        return try decodeWrite(row)
    }

    /// The write records of `key` committed at or after `timestamp`, newest first.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func writes(_ key: [UInt8], since timestamp: UInt64) throws -> [(commitTS: UInt64, record: WriteRecord)] {
        var position = TxnKeys.write(key, commitTS: .max)
        let upper = TxnKeys.write(key, commitTS: timestamp) + [0]
        var found: [(commitTS: UInt64, record: WriteRecord)] = []
        while let row = try snapshot.first(from: position, below: upper) {
            found.append(try decodeWrite(row))
            position = row.key + [0]
        }
        return found
    }

    /// The record the transaction that started at `startTS` left on `key` (its commit or its rollback), if any.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func ownWrite(_ key: [UInt8], startTS: UInt64) throws -> (commitTS: UInt64, record: WriteRecord)? {
        try writes(key, since: startTS).first { $0.record.startTS == startTS }
    }

    /// The value of `key` a transaction reading at `timestamp` sees.
    ///
    /// - Throws: ``ProtocolError`` `LOCKED` when a transaction that started at or before `timestamp` holds a
    ///   lock that may still commit a new value; an engine failure, or ``TxnCorruption``.
    public func value(_ key: [UInt8], at timestamp: UInt64) throws -> [UInt8]? {
        // A key's lock sorts just before its write records, newest first: one seek from the lock's place finds
        // the lock or, usually, the write record to read (two lookups otherwise, lock then write).
        let base = TxnKeys.base(key)
        let lockKey = base + [TxnKeys.Family.lock.rawValue]
        guard let newest = try snapshot.first(from: lockKey, below: TxnKeys.versioned(base, .write, 0) + [0]) else {
            return nil  // no lock, no write record
        }
        // The first write record to look at: the one found, if the snapshot sees it; else seek below.
        var candidate: (commitTS: UInt64, record: WriteRecord)?
        if newest.key.count == lockKey.count {
            let lock = try LockRecord(decoding: newest.value)
            if lock.startTS <= timestamp, lock.kind != .lock {
                throw LockInfo(key: key, primary: lock.primary, startTS: lock.startTS, ttl: lock.ttl, kind: lock.kind).error
            }
            candidate = try write(key, atOrBefore: timestamp)
        } else {
            let found = try decodeWrite(newest)
            candidate = found.commitTS <= timestamp ? found : try write(key, atOrBefore: timestamp)
        }
        while let (commitTS, record) = candidate {
            switch record.kind {
            case .put:
                if let short = record.shortValue { return short }
                guard let value = try snapshot.get(TxnKeys.data(key, startTS: record.startTS)) else {
                    throw TxnCorruption("the value committed at \(commitTS) by transaction \(record.startTS) is missing")
                }
                return value
            case .delete:
                return nil
            case .lock, .rollback:
                guard commitTS > 0 else { return nil }
                candidate = try write(key, atOrBefore: commitTS - 1)
            }
        }
        return nil
    }

    /// Whether `key` has a lock or a write record committed at or after `timestamp`: false is the common case
    /// of a prewrite or one-phase commit, which then needs no closer look (one seek instead of two lookups).
    ///
    /// - Throws: An engine failure.
    public func hasLockOrWrites(_ key: [UInt8], since timestamp: UInt64) throws -> Bool {
        let base = TxnKeys.base(key)
        return try snapshot.first(from: base + [TxnKeys.Family.lock.rawValue], below: TxnKeys.versioned(base, .write, timestamp) + [0]) != nil
    }

    /// The user keys and values visible at `timestamp` with stored keys in `[lower, upper)`, in order.
    ///
    /// - Returns: At most `limit` rows (or about ``ProtocolLimits/maxScanBytes``); `more` when further user
    ///   keys follow in the range.
    /// - Throws: As ``value(_:at:)``.
    public func scan(from lower: [UInt8], below upper: [UInt8], at timestamp: UInt64, limit: Int, keysOnly: Bool) throws -> (rows: [ScanRow], more: Bool) {
        var rows: [ScanRow] = []
        var bytes = 0
        var more = false
        try forEachUserKey(from: lower, below: upper) { userKey, _ in
            if rows.count == limit || bytes >= ProtocolLimits.maxScanBytes {
                more = true
                return false
            }
            if let value = try value(userKey, at: timestamp) {
                rows.append(ScanRow(key: userKey, value: keysOnly ? nil : value))
                bytes += userKey.count + (keysOnly ? 0 : value.count)
            }
            return true
        }
        return (rows, more)
    }

    /// The stored records of `key` that no read at or after `safePoint` can see: every write record at or
    /// below it except the newest put (a newest delete goes too, and everything older), with the values of
    /// the puts among them; rollback and lock-only records at or below it. Locks and newer records stay.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    /// With mode ``TxnGCMode/values`` only the values of older puts and rollback records: commit records stay
    /// (a secondary lock of the transaction may still need its primary's).
    public func garbage(_ key: [UInt8], below safePoint: UInt64, mode: TxnGCMode = .full) throws -> [[UInt8]] {
        let full = mode == .full
        var found: [[UInt8]] = []
        var position = TxnKeys.write(key, commitTS: safePoint)
        let upper = TxnKeys.versioned(TxnKeys.base(key), .write, 0) + [0]
        var visibleKept = false
        while let row = try snapshot.first(from: position, below: upper) {
            let (_, record) = try decodeWrite(row)
            position = row.key + [0]
            switch record.kind {
            case .rollback:
                found.append(row.key)
            case .lock:
                if full { found.append(row.key) }
            case .put where !visibleKept:
                visibleKept = true
            case .delete where !visibleKept:
                visibleKept = true
                if full { found.append(row.key) }  // nothing older is visible at or after the safe point
            case .put:
                if full { found.append(row.key) }
                // A short value goes with its record (in `values` mode it stays: it is inside a commit record).
                guard record.shortValue == nil else { continue }
                let value = TxnKeys.data(key, startTS: record.startTS)
                if try snapshot.get(value) != nil { found.append(value) }  // gone already after a `values` pass
            case .delete:
                if full { found.append(row.key) }
            }
        }
        return found
    }

    /// The user keys with stored keys in `[lower, upper)` that have ``garbage(_:below:)``.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func keysWithGarbage(from lower: [UInt8], below upper: [UInt8], safePoint: UInt64, mode: TxnGCMode = .full) throws -> [[UInt8]] {
        var keys: [[UInt8]] = []
        try forEachUserKey(from: lower, below: upper) { userKey, lock in
            // A key with an old lock is left alone (as the GC command does): its lock is settled first.
            let oldLock = (lock?.startTS).map { $0 <= safePoint } ?? false
            if try !oldLock && !garbage(userKey, below: safePoint, mode: mode).isEmpty { keys.append(userKey) }
            return true
        }
        return keys
    }

    /// The locks in `[lower, upper)` of transactions that started at or before `timestamp`.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func locks(startedBy timestamp: UInt64, from lower: [UInt8], below upper: [UInt8]) throws -> [LockInfo] {
        var found: [LockInfo] = []
        try forEachUserKey(from: lower, below: upper) { userKey, lock in
            if let lock, lock.startTS <= timestamp {
                found.append(LockInfo(key: userKey, primary: lock.primary, startTS: lock.startTS, ttl: lock.ttl, kind: lock.kind))
            }
            return true
        }
        return found
    }

    /// The user keys in `[lower, upper)` locked by the transaction that started at `startTS`.
    ///
    /// - Throws: An engine failure, or ``TxnCorruption``.
    public func keysLocked(by startTS: UInt64, from lower: [UInt8], below upper: [UInt8]) throws -> [[UInt8]] {
        try locks(startedBy: startTS, from: lower, below: upper).filter { $0.startTS == startTS }.map(\.key)
    }

    /// Calls `body` with each user key that has records in `[lower, upper)`, in order, and its lock if it has
    /// one (a key's lock is its first record), until `body` returns false. One seek per user key.
    private func forEachUserKey(
        from lower: [UInt8], below upper: [UInt8], _ body: (_ userKey: [UInt8], _ lock: LockRecord?) throws -> Bool
    ) throws {
        var position = lower
        while let row = try snapshot.first(from: position, below: upper) {
            guard let decoded = TxnKeys.decode(row.key) else {
                throw TxnCorruption("stored key \(ProtocolToken.encodeString(row.key.prefix(64))) is not a transactional key")
            }
            let lock = decoded.family == .lock ? try LockRecord(decoding: row.value) : nil
            guard try body(decoded.userKey, lock) else { return }
            position = TxnKeys.end(decoded.userKey)
        }
    }

    private func decodeWrite(_ row: (key: [UInt8], value: [UInt8])) throws(TxnCorruption) -> (commitTS: UInt64, record: WriteRecord) {
        guard let decoded = TxnKeys.decode(row.key), decoded.family == .write, let commitTS = decoded.timestamp else {
            throw TxnCorruption("stored key \(ProtocolToken.encodeString(row.key.prefix(64))) is not a write record")
        }
        return (commitTS, try WriteRecord(decoding: row.value))
    }
}
