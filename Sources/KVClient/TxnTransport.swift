import KVProtocol
import Txn

/// Where a transaction's requests go: one node, or a cluster routed region by region.
public protocol TxnTransport: AnyObject {
    /// A fresh timestamp from the oracle (a standalone node's, or kvsched's).
    ///
    /// - Throws: ``KVClientError``.
    func timestamp() throws(KVClientError) -> UInt64

    /// Sends a transactional request whose keys all lie in one region, and returns its answer.
    ///
    /// - Throws: ``KVClientError``; `ERR` answers as ``KVClientError/Kind/server(_:)``; `KEY_NOT_IN_REGION` when
    ///   the keys no longer share a region (regroup them with ``groupByRegion(_:)``).
    func send(_ request: TxnRequest) throws(KVClientError) -> Response

    /// Sends reads (`TGET`) pipelined — on one connection, or per region — and returns their answers in order;
    /// `ERR` answers as failures.
    func sendReads(_ requests: [TxnRequest]) -> [Result<Response, KVClientError>]

    /// The keys cut into groups that each lie in one region, in key order.
    ///
    /// - Throws: ``KVClientError`` when the regions cannot be found.
    func groupByRegion(_ keys: [[UInt8]]) throws(KVClientError) -> [[[UInt8]]]

    /// One page of a transactional scan, and the user key the next page starts at (nil when the range is
    /// done): a cluster answers from one region at a time.
    ///
    /// - Throws: ``KVClientError``.
    func scanPage(_ scan: TxnScan) throws(KVClientError) -> (rows: [ScanRow], next: [UInt8]?)
}

// MARK: - One node

extension NodeClient: TxnTransport {
    public func timestamp() throws(KVClientError) -> UInt64 {
        try timestamps(count: 1)
    }

    public func send(_ request: TxnRequest) throws(KVClientError) -> Response {
        try call(.txn(request))
    }

    public func sendReads(_ requests: [TxnRequest]) -> [Result<Response, KVClientError>] {
        do {
            var lines: [UInt8] = []
            for request in requests { lines += Request.txn(request).encoded }
            try connection.send(lines)
        } catch {
            return requests.map { _ in .failure(error) }
        }
        return requests.map { _ in
            Result { () throws(KVClientError) -> Response in
                let response = try connection.readResponse()
                if case .error(let error) = response { throw KVClientError(error) }
                return response
            }
        }
    }

    public func groupByRegion(_ keys: [[UInt8]]) throws(KVClientError) -> [[[UInt8]]] {
        keys.isEmpty ? [] : [keys]
    }

    public func scanPage(_ scan: TxnScan) throws(KVClientError) -> (rows: [ScanRow], next: [UInt8]?) {
        guard case .rows(let rows, let more) = try call(.txn(.scan(scan))) else {
            throw KVClientError(.badResponse, "unexpected answer to TSCAN")
        }
        return (rows, more ? rows.last.map { $0.key + [0] } : nil)
    }
}

// MARK: - A cluster

extension ClusterClient: TxnTransport {
    public func timestamp() throws(KVClientError) -> UInt64 {
        try withScheduler { (scheduler) throws(KVClientError) in try scheduler.timestamps(count: 1) }
    }

    public func send(_ request: TxnRequest) throws(KVClientError) -> Response {
        let routing = request.keys.map(TxnKeys.base)
        return try call(.txn(request), routingKey: routing.first, sameRegion: routing)
    }

    public func sendReads(_ requests: [TxnRequest]) -> [Result<Response, KVClientError>] {
        callPipelined(requests.map(Request.txn)).map { result in
            result.flatMap { response in
                if case .error(let error) = response { return .failure(KVClientError(error)) }
                return .success(response)
            }
        }
    }

    public func groupByRegion(_ keys: [[UInt8]]) throws(KVClientError) -> [[[UInt8]]] {
        var groups: [(region: UInt64, keys: [[UInt8]])] = []
        for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            let region = try routeRetrying(TxnKeys.base(key), last: false).region.id
            if groups.last?.region == region {
                groups[groups.count - 1].keys.append(key)
            } else {
                groups.append((region, [key]))
            }
        }
        return groups.map(\.keys)
    }

    public func scanPage(_ scan: TxnScan) throws(KVClientError) -> (rows: [ScanRow], next: [UInt8]?) {
        let probe = TxnKeys.base(scan.start)
        let end = monotonicNow() + deadline
        while true {
            let region = try routeRetrying(probe, last: false).region
            var bounded = scan
            // Region boundaries in the transactional key space fall between user keys (splits cut there).
            let regionEnd = region.endKey.isEmpty ? nil : TxnKeys.userKeyLowerBound(region.endKey)
            if let regionEnd, scan.end.isEmpty || regionEnd.lexicographicallyPrecedes(scan.end) { bounded.end = regionEnd }
            // The node stops at the end of the region it holds: if that region is no longer the one the page was
            // bounded to (it split while the page was retried), the page is bounded again, or the keys between
            // the two ends would be skipped.
            let response: Response
            do {
                response = try call(.txn(.scan(bounded)), routingKey: probe, within: region)
            } catch where error.kind == .server(.keyNotInRegion) && monotonicNow() < end {
                continue
            }
            guard case .rows(let rows, let more) = response else {
                throw KVClientError(.badResponse, "unexpected answer to TSCAN")
            }
            if more, let last = rows.last { return (rows, last.key + [0]) }
            guard let regionEnd, bounded.end == regionEnd else { return (rows, nil) }
            return (rows, regionEnd)
        }
    }
}
