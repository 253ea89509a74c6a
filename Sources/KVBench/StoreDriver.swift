/// One client connection to a store, with the operations the workloads need, so every store is driven by
/// the same runner code (connection handling, pacing, checks, histograms) and only the wire protocol differs.
///
/// A driver is used by one client thread at a time and is not shared. Every method blocks until the store
/// answered; a write returns only once the store acknowledged it. Drivers check the shape of answers; the
/// runner checks their content (values against keys).
public protocol StoreDriver: AnyObject {
    /// The value of `key`, or `nil` when the store has no such key.
    ///
    /// - Throws: ``DriverError``.
    func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]?

    /// Overwrites the value of an existing `key`.
    ///
    /// - Throws: ``DriverError``.
    func update(_ key: [UInt8], value: [UInt8]) throws(DriverError)

    /// Writes a new key (and indexes it for scans where the store needs that).
    ///
    /// - Throws: ``DriverError``.
    func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError)

    /// Up to `count` records in key order, from `start` (inclusive) to the end of the record keys.
    ///
    /// - Returns: The keys with their values; a value is `nil` where the store listed a key it then had no
    ///   value for (possible where the key index is kept apart from the data, as with Redis).
    /// - Throws: ``DriverError``.
    func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)]

    /// Reads `key`, then writes what `modify` makes of the value (YCSB's read-modify-write: not atomic).
    ///
    /// - Parameters:
    ///   - key: The record.
    ///   - modify: Gets the value read (or `nil`), returns the value to write, or `nil` to write nothing.
    /// - Returns: The value read.
    /// - Throws: ``DriverError``.
    func readModifyWrite(_ key: [UInt8], _ modify: ([UInt8]?) -> [UInt8]?) throws(DriverError) -> [UInt8]?

    /// One optimistic transaction over two keys: reads both, asks `plan` for their new values, and writes both
    /// only if neither changed since the read.
    ///
    /// - Parameters:
    ///   - first: One key.
    ///   - second: The other key.
    ///   - plan: Gets both values read; returns the new values, or `nil` to write nothing.
    /// - Returns: Whether it committed, wrote nothing, or lost to a concurrent writer.
    /// - Throws: ``DriverError``; kind ``DriverError/Kind/unsupported`` where the store has no transactions.
    func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome

    /// Writes many new pairs as fast as the store allows (pipelined or batched), for the load phase.
    ///
    /// - Parameters:
    ///   - pairs: The keys and values.
    ///   - indexed: Whether scans will need the keys (see ``insert(_:value:)``).
    /// - Throws: ``DriverError``.
    func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError)
}

/// How an optimistic transaction ended.
public enum TransactionOutcome: Sendable, Hashable {
    /// Both writes are durable.
    case committed
    /// The plan chose to write nothing.
    case skipped
    /// Another client changed a key in between; nothing was written, the caller may retry.
    case conflict
}

extension StoreDriver {
    /// Read then update, as two requests (YCSB's definition).
    public func readModifyWrite(
        _ key: [UInt8], _ modify: ([UInt8]?) -> [UInt8]?
    ) throws(DriverError) -> [UInt8]? {
        let value = try read(key)
        if let replacement = modify(value) { try update(key, value: replacement) }
        return value
    }
}
