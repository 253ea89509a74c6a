import KVClient
import KVProtocol

/// Drives a cluster through ``KVClient/ClusterClient``: each request goes to its region's leader, found
/// through the scheduler and cached, with the client's retries; one request at a time per client.
public final class KVClusterDriver {
    private let cluster: ClusterClient

    /// Creates a driver; it connects on first use.
    ///
    /// - Parameters:
    ///   - scheduler: The scheduler's address.
    ///   - timeout: The deadline of each request, retries included, in seconds.
    public init(scheduler: NodeAddress, timeout: Double) {
        cluster = ClusterClient(scheduler: scheduler, deadline: timeout)
    }
}

// MARK: - StoreDriver

extension KVClusterDriver: StoreDriver {
    public func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? {
        try DriverError.mapping { () throws(KVClientError) in try cluster.get(key) }
    }

    public func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try DriverError.mapping { () throws(KVClientError) in try cluster.put(key, value) }
    }

    public func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try update(key, value: value)
    }

    public func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        var pairs: [(key: [UInt8], value: [UInt8]?)] = []
        try DriverError.mapping { () throws(KVClientError) in
            try cluster.scan(ScanRequest(start: start, end: RecordKey.recordRangeEnd, limit: count), maxRows: count) { row in
                pairs.append((row.key, row.value))
                return true
            }
        }
        return pairs
    }

    public func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        throw DriverError(.unsupported, KVNodeDriver.transactionsMissing)
    }

    public func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        for pair in pairs { try update(pair.key, value: pair.value) }
    }
}
