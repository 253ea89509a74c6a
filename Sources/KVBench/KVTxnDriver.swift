import KVClient
import KVProtocol

/// Drives this project's transactional API (``KVClient/TxnClient``) — one node or a cluster — for the
/// `txn-transfer` workload: accounts are loaded, read and moved in Percolator transactions.
public final class KVTxnDriver {
    /// Accounts written per transaction in the load phase.
    static let loadBatch = 64

    private let client: TxnClient

    /// Drives `client`.
    public init(client: TxnClient) {
        self.client = client
    }

    deinit { client.close() }

    private func run<T>(_ body: () throws(KVClientError) -> T) throws(DriverError) -> T {
        try DriverError.mapping(body)
    }
}

// MARK: - StoreDriver

extension KVTxnDriver: StoreDriver {
    /// Reads one key in a snapshot at a fresh timestamp.
    public func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? {
        try run { () throws(KVClientError) in try client.begin().get(key) }
    }

    public func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try run { () throws(KVClientError) in
            let txn = try client.begin()
            txn.put(key, value)
            try txn.commit()
        }
    }

    public func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try update(key, value: value)
    }

    public func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        try run { () throws(KVClientError) in
            try client.begin().scan(from: start, to: RecordKey.recordRangeEnd, limit: count).map { ($0.key, $0.value) }
        }
    }

    /// Reads both accounts in one snapshot and writes both in the same transaction; a write conflict (or a
    /// rollback by a lock resolver) is a lost race.
    public func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        do throws(KVClientError) {
            // One round trip for the start timestamp and both reads on a standalone node.
            let (txn, values) = try client.begin(reading: [first, second])
            guard let (newFirst, newSecond) = plan(values[0], values[1]) else { return .skipped }
            txn.put(first, newFirst)
            txn.put(second, newSecond)
            try txn.commit()
            return .committed
        } catch where error.kind == .server(.writeConflict) || error.kind == .server(.aborted) {
            return .conflict
        } catch {
            throw DriverError(error)
        }
    }

    /// Writes the pairs in transactions of ``loadBatch``.
    public func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        var index = 0
        while index < pairs.count {
            let end = min(index + Self.loadBatch, pairs.count)
            try run { () throws(KVClientError) in
                let txn = try client.begin()
                for pair in pairs[index..<end] { txn.put(pair.key, pair.value) }
                try txn.commit()
            }
            index = end
        }
    }
}
