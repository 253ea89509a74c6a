import KVClient

/// Drives an etcd server through its v3 JSON gateway over one HTTP/1.1 keep-alive connection
/// (see ``HTTPConnection`` for why the HTTP client is hand-written).
///
/// - Reads are `/v3/kv/range` of one key, writes `/v3/kv/put`.
/// - Scans are a range from the start key to the end of the record keys with a limit (etcd keeps keys in
///   order, so no index is needed).
/// - Transfers read both keys in one unconditional `/v3/kv/txn`, then write both in a `/v3/kv/txn` that
///   compares each key's `mod_revision` with the one read; `succeeded: false` is a conflict.
/// - The load phase writes batches of puts, each one transaction of at most ``maxTransactionOperations``.
public final class EtcdDriver {
    /// etcd's default `--max-txn-ops`.
    static let maxTransactionOperations = 128
    /// Keeps a load transaction well under etcd's default 1.5 MiB request limit (base64 adds a third).
    static let maxTransactionBytes = 512 * 1024

    private let connection: HTTPConnection

    /// Connects to an etcd member's client URL.
    ///
    /// - Parameters:
    ///   - address: The member's client address.
    ///   - timeout: The bound on each network wait, in seconds.
    /// - Throws: ``DriverError`` when the member cannot be reached.
    public init(address: NodeAddress, timeout: Double) throws(DriverError) {
        connection = try HTTPConnection(address: address, timeout: timeout)
    }

    private func call(_ path: String, _ body: [UInt8]) throws(DriverError) -> JSONValue {
        let response = try connection.post(path, body: body)
        guard response.status == 200 else { throw EtcdGatewayJSON.error(status: response.status, body: response.body) }
        return try JSONValue.parse(response.body)
    }
}

// MARK: - StoreDriver

extension EtcdDriver: StoreDriver {
    /// Reads one key; `nil` when the store has none.
    public func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? {
        let pairs = try EtcdGatewayJSON.keyValues(inRange: try call("/v3/kv/range", EtcdGatewayJSON.range(key: key)))
        guard let pair = pairs.first else { return nil }
        guard pair.key == key, pairs.count == 1 else { throw DriverError(.badResponse, "etcd range of one key returned others") }
        return pair.value
    }

    /// Overwrites one key; returns once the store acknowledged it.
    public func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        let answer = try call("/v3/kv/put", EtcdGatewayJSON.put(key: key, value: value))
        guard answer["header"] != nil else { throw DriverError(.badResponse, "etcd put answer has no header") }
    }

    /// Writes a new key; returns once the store acknowledged it.
    public func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try update(key, value: value)
    }

    /// Up to `count` records from `start`, in key order.
    public func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        let body = EtcdGatewayJSON.range(key: start, rangeEnd: RecordKey.recordRangeEnd, limit: count)
        let pairs = try EtcdGatewayJSON.keyValues(inRange: try call("/v3/kv/range", body))
        return pairs.map { ($0.key, $0.value) }
    }

    /// The two-key optimistic transaction of `txn-transfer`.
    public func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        let read = try EtcdGatewayJSON.transaction(try call("/v3/kv/txn", EtcdGatewayJSON.readAll([first, second])))
        guard read.succeeded, read.ranges.count == 2 else {
            throw DriverError(.badResponse, "etcd read transaction did not return two ranges")
        }
        let firstPair = read.ranges[0].first
        let secondPair = read.ranges[1].first
        guard let (newFirst, newSecond) = plan(firstPair?.value, secondPair?.value) else { return .skipped }
        let body = EtcdGatewayJSON.conditionalPut(
            compares: [(first, firstPair?.modRevision ?? 0), (second, secondPair?.modRevision ?? 0)],
            puts: [(first, newFirst), (second, newSecond)])
        let outcome = try EtcdGatewayJSON.transaction(try call("/v3/kv/txn", body))
        return outcome.succeeded ? .committed : .conflict
    }

    /// Writes many pairs with as few round trips as the store allows.
    public func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        var index = 0
        while index < pairs.count {
            var end = index
            var bytes = 0
            while end < pairs.count, end - index < Self.maxTransactionOperations,
                  end == index || bytes + pairs[end].key.count + pairs[end].value.count < Self.maxTransactionBytes {
                bytes += pairs[end].key.count + pairs[end].value.count
                end += 1
            }
            let body = EtcdGatewayJSON.conditionalPut(compares: [], puts: Array(pairs[index..<end]))
            let outcome = try EtcdGatewayJSON.transaction(try call("/v3/kv/txn", body))
            guard outcome.succeeded else { throw DriverError(.badResponse, "etcd load transaction did not succeed") }
            index = end
        }
    }
}
