import KVClient
import KVProtocol

/// Drives this project's node over the line protocol through ``KVClient``'s `LineConnection`, which sits on
/// the same `SocketStream` the Redis and etcd drivers use, so the three differ only in their wire protocol.
///
/// This is the raw API; `txn-transfer` runs through ``KVTxnDriver`` (the transactional API) instead, and
/// ``transfer`` here refuses rather than imitate a transaction with raw writes.
public final class KVNodeDriver {
    /// How many requests the load phase sends before reading their answers.
    static let loadPipelineDepth = 256

    private let connection: LineConnection

    /// Connects to a node.
    ///
    /// - Parameters:
    ///   - address: The node's address.
    ///   - timeout: The bound on each network wait, in seconds.
    /// - Throws: ``DriverError`` when the node cannot be reached.
    public init(address: NodeAddress, timeout: Double) throws(DriverError) {
        connection = try DriverError.mapping { () throws(KVClientError) in
            try LineConnection(to: address, timeout: timeout)
        }
    }

    /// Why the raw drivers do not run transfers.
    public static let transactionsMissing =
        "the raw API has no transactions; txn-transfer runs through the transactional driver (KVTxnDriver)"

    private func put(_ key: [UInt8], _ value: [UInt8]) throws(DriverError) {
        let response = try call(.put(key: key, value: value))
        guard case .ok = response else { throw unexpected("PUT", response) }
    }

    private func call(_ request: Request) throws(DriverError) -> Response {
        try DriverError.mapping { () throws(KVClientError) in try connection.send(request) }
        let response = try readResponse()
        if case .error(let error) = response {
            throw DriverError(.server(error.code.rawValue), "\(error.code.rawValue) \(error.message)")
        }
        return response
    }

    /// Reads the next complete answer (all lines of a row answer).
    private func readResponse() throws(DriverError) -> Response {
        try DriverError.mapping { () throws(KVClientError) in try connection.readResponse() }
    }

    private func unexpected(_ verb: String, _ response: Response) -> DriverError {
        if case .error(let error) = response {
            return DriverError(.server(error.code.rawValue), "\(error.code.rawValue) \(error.message)")
        }
        return DriverError(.badResponse, "unexpected answer to \(verb) from \(connection.address)")
    }
}

// MARK: - StoreDriver

extension KVNodeDriver: StoreDriver {
    /// Reads one key; `nil` when the store has none.
    public func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? {
        switch try call(.get(key: key)) {
        case .value(let value): return value
        case .notFound: return nil
        case let other: throw unexpected("GET", other)
        }
    }

    /// Overwrites one key; returns once the store acknowledged it.
    public func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try put(key, value)
    }

    /// Writes a new key; returns once the store acknowledged it.
    public func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try put(key, value)
    }

    /// Up to `count` records from `start`, in key order.
    public func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        let request = ScanRequest(start: start, end: RecordKey.recordRangeEnd, limit: count)
        guard case .rows(let rows, _) = try call(.scan(request)) else {
            throw DriverError(.badResponse, "unexpected answer to SCAN")
        }
        var pairs: [(key: [UInt8], value: [UInt8]?)] = []
        pairs.reserveCapacity(rows.count)
        for row in rows {
            guard let value = row.value else { throw DriverError(.badResponse, "SCAN row without a value") }
            pairs.append((row.key, value))
        }
        return pairs
    }

    /// The two-key optimistic transaction of `txn-transfer`.
    public func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        throw DriverError(.unsupported, Self.transactionsMissing)
    }

    /// Writes many pairs with as few round trips as the store allows.
    public func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        var index = 0
        while index < pairs.count {
            let end = min(index + Self.loadPipelineDepth, pairs.count)
            var batch: [UInt8] = []
            for pair in pairs[index..<end] {
                batch.append(contentsOf: Request.put(key: pair.key, value: pair.value).encoded)
            }
            try DriverError.mapping { () throws(KVClientError) in try connection.send(batch) }
            var responses: [Response] = []
            responses.reserveCapacity(end - index)
            for _ in index..<end { responses.append(try readResponse()) }
            for response in responses {
                guard case .ok = response else { throw unexpected("PUT", response) }
            }
            index = end
        }
    }
}
