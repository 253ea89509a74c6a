import KVProtocol

/// The raw key-value API, whether it goes to one node (``NodeClient``) or is routed across a cluster
/// (``ClusterClient``).
public protocol KeyValueClient: AnyObject {
    /// Sends a request and returns its answer, turning `ERR` into a thrown error.
    func call(_ request: Request) throws(KVClientError) -> Response
    /// The value of `key`, or `nil` when it is absent.
    func get(_ key: [UInt8]) throws(KVClientError) -> [UInt8]?
    /// Stores `value` under `key`; returns once it is durable.
    func put(_ key: [UInt8], _ value: [UInt8]) throws(KVClientError)
    /// Removes `key`; returns whether it existed.
    @discardableResult
    func delete(_ key: [UInt8]) throws(KVClientError) -> Bool
    /// Scans a range across as many pages (and regions) as needed; `body` returns `false` to stop.
    func scan(_ request: ScanRequest, maxRows: Int?, _ body: (ScanRow) throws(KVClientError) -> Bool) throws(KVClientError)
}

extension NodeClient: KeyValueClient {}
