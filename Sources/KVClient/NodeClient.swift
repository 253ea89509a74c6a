import KVProtocol

/// The raw key-value API of one node, over one ``LineConnection``.
///
/// ```swift
/// let client = try NodeClient(address: .standard)
/// try client.put(Array("k".utf8), Array("v".utf8))
/// let value = try client.get(Array("k".utf8))
/// ```
public final class NodeClient {
    /// The connection requests go over.
    public let connection: LineConnection

    /// Connects to a node.
    ///
    /// - Parameters:
    ///   - address: The node.
    ///   - timeout: The bound on each wait, in seconds.
    /// - Throws: ``KVClientError`` when the node cannot be reached.
    public init(address: NodeAddress, timeout: Double? = 10) throws(KVClientError) {
        connection = try LineConnection(to: address, timeout: timeout)
    }

    /// Sends a request and returns its answer, turning `ERR` into a thrown error.
    ///
    /// - Throws: ``KVClientError``; an `ERR` answer has kind ``KVClientError/Kind/server(_:)``.
    public func call(_ request: Request) throws(KVClientError) -> Response {
        let response = try connection.call(request)
        if case .error(let error) = response { throw KVClientError(error) }
        return response
    }

    /// `PING`.
    public func ping() throws(KVClientError) {
        guard case .pong = try call(.ping) else { throw unexpected("PING") }
    }

    /// `HELLO`: the words after `OK`, e.g. `["kvnode", "0.1.0", "proto=1", "mode=standalone"]`.
    public func hello() throws(KVClientError) -> [String] {
        guard case .ok(let words) = try call(.hello) else { throw unexpected("HELLO") }
        return words
    }

    /// `STATS` as a dictionary.
    public func stats() throws(KVClientError) -> [String: String] {
        guard case .ok(let words) = try call(.stats) else { throw unexpected("STATS") }
        var result: [String: String] = [:]
        for word in words {
            let parts = word.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { result[String(parts[0])] = String(parts[1]) }
        }
        return result
    }

    /// The value of `key`, or `nil` when it is absent.
    public func get(_ key: [UInt8]) throws(KVClientError) -> [UInt8]? {
        switch try call(.get(key: key)) {
        case .value(let value): return value
        case .notFound: return nil
        default: throw unexpected("GET")
        }
    }

    /// Stores `value` under `key`; returns once the node made it durable.
    public func put(_ key: [UInt8], _ value: [UInt8]) throws(KVClientError) {
        guard case .ok = try call(.put(key: key, value: value)) else { throw unexpected("PUT") }
    }

    /// Removes `key`; returns whether it existed.
    @discardableResult
    public func delete(_ key: [UInt8]) throws(KVClientError) -> Bool {
        guard case .ok(let words) = try call(.delete(key: key)) else { throw unexpected("DEL") }
        return words.first == "1"
    }

    /// One page of a scan: at most `request.limit` rows, and whether more may follow.
    public func scanPage(_ request: ScanRequest) throws(KVClientError) -> (rows: [ScanRow], more: Bool) {
        guard case .rows(let rows, let more) = try call(.scan(request)) else { throw unexpected("SCAN") }
        return (rows, more)
    }

    /// Scans a range across as many pages as needed.
    ///
    /// - Parameters:
    ///   - request: The range, direction and key-only flag; its limit is the page size.
    ///   - maxRows: The most rows to deliver in all, or `nil` for every row of the range.
    ///   - body: Gets each row in order; returns `false` to stop.
    public func scan(
        _ request: ScanRequest, maxRows: Int? = nil, _ body: (ScanRow) throws(KVClientError) -> Bool
    ) throws(KVClientError) {
        var page = request
        var remaining = maxRows ?? .max
        while remaining > 0 {
            page.limit = min(request.limit, remaining)
            let (rows, more) = try scanPage(page)
            for row in rows {
                if try !body(row) { return }
            }
            remaining -= rows.count
            guard more, let last = rows.last else { return }
            // Continue after the last row: its successor going forward, the last key itself (exclusive) back.
            if request.reverse {
                page.end = last.key
            } else {
                page.start = last.key + [0]
            }
        }
    }

    private func unexpected(_ verb: String) -> KVClientError {
        KVClientError(.badResponse, "unexpected answer to \(verb) from \(connection.address)")
    }
}

// MARK: - Sendable

// The connection is used by one thread at a time through this type.
extension NodeClient: @unchecked Sendable {}
