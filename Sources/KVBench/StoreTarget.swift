import ArgumentParser
import KVClient

/// The kind of store a run drives.
public enum StoreTarget: String, CaseIterable, Sendable {
    /// This project's node (line protocol).
    case kv
    /// A Redis server (RESP2).
    case redis
    /// An etcd member (v3 JSON gateway over HTTP/1.1).
    case etcd

    /// Where the store listens by default.
    public var defaultAddress: NodeAddress {
        switch self {
        case .kv: .standard
        case .redis: .tcp(host: "127.0.0.1", port: 6379)
        case .etcd: .tcp(host: "127.0.0.1", port: 2379)
        }
    }

    /// Parses a `--url`: `redis://HOST:PORT`, `http://HOST:PORT`, `tcp://HOST:PORT`, `unix:///path`, or a bare
    /// `HOST:PORT` or socket path. TLS (`https`, `rediss`) is not supported.
    ///
    /// - Parameter url: The URL as given.
    /// - Returns: The address.
    /// - Throws: ``BenchError`` of kind usage.
    public static func address(fromURL url: String) throws(BenchError) -> NodeAddress {
        var rest = Substring(url)
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            guard ["redis", "http", "tcp", "unix", "kv"].contains(scheme) else {
                throw BenchError(.usage, "--url scheme '\(scheme)' is not supported (plain redis://, http:// or unix:// only)")
            }
            rest = rest[schemeEnd.upperBound...]
            if scheme == "unix" { return .unix(path: String(rest)) }
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
        }
        do {
            return try NodeAddress(parsing: String(rest))
        } catch {
            throw BenchError(.usage, "--url: \(error.message)")
        }
    }

    /// A factory of drivers for this kind of store.
    ///
    /// - Parameters:
    ///   - address: The store's address.
    ///   - timeout: The bound on each network wait, in seconds.
    ///   - workload: The workload (Redis keeps a scan index only for workloads that scan).
    /// - Returns: The factory; each call opens a new connection.
    public func driverFactory(address: NodeAddress, timeout: Double, workload: Workload) -> DriverFactory {
        switch self {
        case .kv where workload.usesAccounts:
            // One timestamp round trip serves every client thread waiting at that moment.
            let timestamps = TimestampBatcher { () throws(KVClientError) in try NodeClient(address: address, timeout: timeout) }
            return { () throws(DriverError) -> any StoreDriver in
                let client = try DriverError.mapping { () throws(KVClientError) in
                    try TxnClient.node(address, timeout: timeout, timestamps: timestamps)
                }
                client.deadline = timeout
                return KVTxnDriver(client: client)
            }
        case .kv:
            return { () throws(DriverError) -> any StoreDriver in try KVNodeDriver(address: address, timeout: timeout) }
        case .redis:
            let indexes = workload.scans
            return { () throws(DriverError) -> any StoreDriver in
                try RedisDriver(address: address, timeout: timeout, indexesKeys: indexes)
            }
        case .etcd:
            return { () throws(DriverError) -> any StoreDriver in try EtcdDriver(address: address, timeout: timeout) }
        }
    }
}

// MARK: - ExpressibleByArgument

extension StoreTarget: ExpressibleByArgument {}
