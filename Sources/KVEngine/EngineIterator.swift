import CLMDB

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A cursor over a range of one column family, forward or reverse, handed out by
/// ``Transaction/withIterator(in:range:reverse:_:)`` and closed when that call returns.
public struct EngineIterator {
    private let cursor: OpaquePointer
    private let range: KeyRange
    private let reverse: Bool
    private var started = false
    private var exhausted = false

    init(cursor: OpaquePointer, range: KeyRange, reverse: Bool) {
        self.cursor = cursor
        self.range = range
        self.reverse = reverse
    }

    /// The next pair of the range, copied out, or `nil` at the end.
    ///
    /// - Throws: An LMDB failure.
    public mutating func next() throws -> KeyValuePair? {
        guard let (key, value) = try nextBuffers() else { return nil }
        return KeyValuePair(key: Array(key), value: Array(value))
    }

    /// Moves so that the next pair returned is the first one at or after `key` (at or before, in reverse),
    /// still inside the range.
    ///
    /// - Parameter key: Where to continue.
    public mutating func seek(to key: [UInt8]) {
        var bounded = range
        if reverse {
            // The next pair is the last one <= key: continue below key's successor.
            bounded.upper = key + [0]
            if let upper = range.upper, upper.lexicographicallyPrecedes(key + [0]) { bounded.upper = upper }
        } else if range.lower.map({ $0.lexicographicallyPrecedes(key) }) ?? true {
            bounded.lower = key
        }
        pendingStart = bounded
        started = false
        exhausted = false
    }

    private var pendingStart: KeyRange?

    /// The next pair without copying; the buffers are valid until the next call or the end of the transaction.
    ///
    /// - Throws: An LMDB failure.
    public mutating func nextBuffers() throws -> (UnsafeRawBufferPointer, UnsafeRawBufferPointer)? {
        guard !exhausted else { return nil }
        var key = MDB_val()
        var value = MDB_val()
        var rc: Int32
        if !started {
            started = true
            let start = pendingStart ?? range
            pendingStart = nil
            rc = try position(start: start, key: &key, value: &value)
        } else {
            rc = mdb_cursor_get(cursor, &key, &value, reverse ? MDB_PREV : MDB_NEXT)
        }
        if rc == MDB_NOTFOUND {
            exhausted = true
            return nil
        }
        guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_cursor_get") }
        let keyBuffer = UnsafeRawBufferPointer(start: key.mv_data, count: key.mv_size)
        if reverse {
            if let lower = range.lower, compare(keyBuffer, lower) < 0 {
                exhausted = true
                return nil
            }
        } else if let upper = range.upper, compare(keyBuffer, upper) >= 0 {
            exhausted = true
            return nil
        }
        return (keyBuffer, UnsafeRawBufferPointer(start: value.mv_data, count: value.mv_size))
    }

    /// Deletes the pair the iterator returned last (write transactions only, forward iteration).
    ///
    /// LMDB marks the cursor after a delete so that the following `MDB_NEXT` returns the pair after the deleted
    /// one rather than skipping it; iteration continues normally.
    mutating func deleteCurrent() throws {
        let rc = mdb_cursor_del(cursor, 0)
        guard rc == 0 else { throw EngineError.lmdb(rc, "mdb_cursor_del") }
    }

    private func position(start: KeyRange, key: inout MDB_val, value: inout MDB_val) throws -> Int32 {
        if reverse {
            guard let upper = start.upper, !upper.isEmpty else { return mdb_cursor_get(cursor, &key, &value, MDB_LAST) }
            return upper.withUnsafeBytes { bytes in
                key = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                let rc = mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
                // Positioned on the first key >= upper, which is outside; the one before it is the start.
                if rc == MDB_NOTFOUND { return mdb_cursor_get(cursor, &key, &value, MDB_LAST) }
                if rc != 0 { return rc }
                return mdb_cursor_get(cursor, &key, &value, MDB_PREV)
            }
        }
        guard let lower = start.lower, !lower.isEmpty else { return mdb_cursor_get(cursor, &key, &value, MDB_FIRST) }
        return lower.withUnsafeBytes { bytes in
            key = MDB_val(mv_size: bytes.count, mv_data: UnsafeMutableRawPointer(mutating: bytes.baseAddress))
            return mdb_cursor_get(cursor, &key, &value, MDB_SET_RANGE)
        }
    }
}

/// Byte-order comparison of a stored key with a bound: negative, zero or positive.
func compare(_ lhs: UnsafeRawBufferPointer, _ rhs: [UInt8]) -> Int {
    rhs.withUnsafeBytes { ByteOrder.compare(lhs, $0) }
}
