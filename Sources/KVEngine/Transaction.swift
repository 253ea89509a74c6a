import CLMDB

/// A read or write transaction, valid only inside the ``Environment/read(_:)`` or ``Environment/write(_:)``
/// closure that handed it out. Do not keep it, or bytes read through it, past that closure.
public struct Transaction {
    let handle: OpaquePointer
    let databases: [MDB_dbi?]
    let maxKeySize: Int
    /// Whether the transaction may change data (false inside ``Environment/read(_:)``).
    public let isWritable: Bool

    init(handle: OpaquePointer, databases: [MDB_dbi?], maxKeySize: Int, writable: Bool) {
        self.handle = handle
        self.databases = databases
        self.maxKeySize = maxKeySize
        self.isWritable = writable
    }

    // MARK: - Reading

    /// The value stored under `key`, copied out.
    ///
    /// - Parameters:
    ///   - key: The key; an empty or over-long key is never stored, so it reads as absent.
    ///   - columnFamily: Where to look.
    /// - Returns: The value, or `nil` when the key is absent.
    /// - Throws: ``EngineError/columnFamilyMissing`` or an LMDB failure.
    public func get(_ key: [UInt8], in columnFamily: ColumnFamily = .default) throws -> [UInt8]? {
        try withValue(key, in: columnFamily) { value in value.map { Array($0) } }
    }

    /// Calls `body` with the stored bytes of `key` (or `nil`), without copying them.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - columnFamily: Where to look.
    ///   - body: Gets a buffer valid only during the call.
    /// - Returns: What `body` returns.
    /// - Throws: ``EngineError/columnFamilyMissing``, an LMDB failure, or what `body` throws.
    public func withValue<R>(
        _ key: [UInt8], in columnFamily: ColumnFamily = .default, _ body: (UnsafeRawBufferPointer?) throws -> R
    ) throws -> R {
        let dbi = try database(columnFamily)
        guard !key.isEmpty, key.count <= maxKeySize else { return try body(nil) }
        return try key.withUnsafeBytes { keyBytes in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            var data = MDB_val()
            let rc = mdb_get(handle, dbi, &keyValue, &data)
            if rc == MDB_NOTFOUND { return try body(nil) }
            guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_get") }
            return try body(UnsafeRawBufferPointer(start: data.mv_data, count: data.mv_size))
        }
    }

    /// Calls `body` for each key-value pair of `range` in order, until it returns `false`.
    ///
    /// - Parameters:
    ///   - columnFamily: Where to look.
    ///   - range: The keys to visit.
    ///   - reverse: Visit from the last key of the range down to the first.
    ///   - body: Gets buffers valid only during the call; returns whether to go on.
    /// - Throws: ``EngineError/columnFamilyMissing``, an LMDB failure, or what `body` throws.
    public func forEach(
        in columnFamily: ColumnFamily = .default, range: KeyRange = .all, reverse: Bool = false,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        try withIterator(in: columnFamily, range: range, reverse: reverse) { iterator in
            while let (key, value) = try iterator.nextBuffers() {
                if try !body(key, value) { return }
            }
        }
    }

    /// The key-value pairs of `range`, copied out, at most `limit` of them.
    ///
    /// - Parameters:
    ///   - columnFamily: Where to look.
    ///   - range: The keys to return.
    ///   - reverse: Return them from the last down.
    ///   - limit: The most pairs to return.
    /// - Returns: The pairs in the order visited.
    /// - Throws: ``EngineError/columnFamilyMissing`` or an LMDB failure.
    public func scan(
        in columnFamily: ColumnFamily = .default, range: KeyRange = .all, reverse: Bool = false, limit: Int = .max
    ) throws -> [KeyValuePair] {
        var pairs: [KeyValuePair] = []
        guard limit > 0 else { return pairs }
        try forEach(in: columnFamily, range: range, reverse: reverse) { key, value in
            pairs.append(KeyValuePair(key: Array(key), value: Array(value)))
            return pairs.count < limit
        }
        return pairs
    }

    /// Runs `body` with an iterator over `range`; the iterator is closed when `body` returns.
    ///
    /// - Parameters:
    ///   - columnFamily: Where to iterate.
    ///   - range: The keys the iterator visits.
    ///   - reverse: Visit from the last key down.
    ///   - body: Uses the iterator; it must not keep it.
    /// - Returns: What `body` returns.
    /// - Throws: ``EngineError/columnFamilyMissing``, an LMDB failure, or what `body` throws.
    public func withIterator<R>(
        in columnFamily: ColumnFamily = .default, range: KeyRange = .all, reverse: Bool = false,
        _ body: (inout EngineIterator) throws -> R
    ) throws -> R {
        let dbi = try database(columnFamily)
        var cursor: OpaquePointer?
        let rc = mdb_cursor_open(handle, dbi, &cursor)
        guard rc == 0, let cursor else { throw EngineError.lmdb(rc, "mdb_cursor_open") }
        defer { mdb_cursor_close(cursor) }
        var iterator = EngineIterator(cursor: cursor, range: range, reverse: reverse)
        return try body(&iterator)
    }

    /// The B-tree statistics of a column family as of this transaction.
    ///
    /// - Throws: ``EngineError/columnFamilyMissing`` or an LMDB failure.
    public func statistics(of columnFamily: ColumnFamily) throws -> ColumnFamilyStatistics {
        let dbi = try database(columnFamily)
        var stat = MDB_stat()
        let rc = mdb_stat(handle, dbi, &stat)
        guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_stat") }
        return ColumnFamilyStatistics(
            pageSize: Int(stat.ms_psize), depth: Int(stat.ms_depth), branchPages: stat.ms_branch_pages,
            leafPages: stat.ms_leaf_pages, overflowPages: stat.ms_overflow_pages, entries: stat.ms_entries)
    }

    // MARK: - Writing

    /// Stores `value` under `key`, replacing any value there.
    ///
    /// - Parameters:
    ///   - value: The bytes to store; may be empty.
    ///   - key: 1 to ``Environment/maxKeySize`` bytes.
    ///   - columnFamily: Where to store.
    /// - Throws: ``EngineError/readOnly``, ``EngineError/emptyKey``, ``EngineError/keyTooLarge``,
    ///   ``EngineError/mapFull`` (the environment grows the map and retries), or another LMDB failure.
    public func put(_ value: [UInt8], for key: [UInt8], in columnFamily: ColumnFamily = .default) throws {
        let dbi = try writableDatabase(columnFamily)
        try checkKey(key)
        try key.withUnsafeBytes { keyBytes in
            try value.withUnsafeBytes { valueBytes in
                var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
                var data = MDB_val(
                    mv_size: valueBytes.count,
                    mv_data: UnsafeMutableRawPointer(mutating: valueBytes.baseAddress ?? keyBytes.baseAddress))
                let rc = mdb_put(handle, dbi, &keyValue, &data, 0)
                guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_put") }
            }
        }
    }

    /// Removes `key`.
    ///
    /// - Parameters:
    ///   - key: The key.
    ///   - columnFamily: Where to remove it.
    /// - Returns: Whether the key was there.
    /// - Throws: ``EngineError/readOnly`` or an LMDB failure.
    @discardableResult
    public func delete(_ key: [UInt8], in columnFamily: ColumnFamily = .default) throws -> Bool {
        let dbi = try writableDatabase(columnFamily)
        guard !key.isEmpty, key.count <= maxKeySize else { return false }
        return try key.withUnsafeBytes { keyBytes in
            var keyValue = MDB_val(mv_size: keyBytes.count, mv_data: UnsafeMutableRawPointer(mutating: keyBytes.baseAddress))
            let rc = mdb_del(handle, dbi, &keyValue, nil)
            if rc == MDB_NOTFOUND { return false }
            guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_del") }
            return true
        }
    }

    /// Removes every key of `range`.
    ///
    /// - Parameters:
    ///   - range: The keys to remove.
    ///   - columnFamily: Where to remove them.
    /// - Returns: How many keys were removed.
    /// - Throws: ``EngineError/readOnly`` or an LMDB failure.
    @discardableResult
    public func deleteRange(_ range: KeyRange, in columnFamily: ColumnFamily = .default) throws -> Int {
        _ = try writableDatabase(columnFamily)
        return try withIterator(in: columnFamily, range: range) { iterator in
            var removed = 0
            while try iterator.nextBuffers() != nil {
                try iterator.deleteCurrent()
                removed += 1
            }
            return removed
        }
    }

    /// Removes every key of a column family.
    ///
    /// - Throws: ``EngineError/readOnly`` or an LMDB failure.
    public func clear(_ columnFamily: ColumnFamily) throws {
        let dbi = try writableDatabase(columnFamily)
        let rc = mdb_drop(handle, dbi, 0)
        guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_drop") }
    }

    // MARK: - Checks

    private func database(_ columnFamily: ColumnFamily) throws -> MDB_dbi {
        guard let dbi = databases[columnFamily.index] else {
            throw EngineError(.columnFamilyMissing, "this environment has no column family '\(columnFamily.rawValue)'")
        }
        return dbi
    }

    private func writableDatabase(_ columnFamily: ColumnFamily) throws -> MDB_dbi {
        guard isWritable else { throw EngineError(.readOnly, "cannot write in a read transaction") }
        return try database(columnFamily)
    }

    private func checkKey(_ key: [UInt8]) throws {
        if key.isEmpty { throw EngineError.emptyKey }
        if key.count > maxKeySize {
            throw EngineError(.keyTooLarge, "key of \(key.count) bytes is over the limit of \(maxKeySize) bytes")
        }
    }
}

/// A key and its value, copied out of a transaction.
public struct KeyValuePair: Sendable, Hashable {
    /// The key.
    public var key: [UInt8]
    /// The value.
    public var value: [UInt8]

    /// Creates a pair.
    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}
