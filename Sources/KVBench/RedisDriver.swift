import KVClient

/// Drives a Redis server over RESP2 on a plain socket.
///
/// - Reads and writes are `GET` and `SET`.
/// - Scans (workload E): Redis keeps no key order, so, like YCSB's own Redis binding, the driver keeps an index
///   of record keys in a sorted set (``indexKey``, all scores 0 so members sort by bytes) when the workload
///   scans. An insert then sends `SET` and `ZADD` together in one round trip, and a scan is `ZRANGEBYLEX` for
///   the keys followed by one `MGET` for their values (two round trips).
/// - Transfers: `WATCH` both keys with `MGET` (one round trip), then `MULTI`, two `SET`s and `EXEC` (one round
///   trip); a nil `EXEC` reply is a conflict.
public final class RedisDriver {
    /// The sorted set holding the record keys for scans.
    public static let indexKey: [UInt8] = Array("kvbench:index".utf8)
    /// How many commands the load phase pipelines.
    static let loadPipelineDepth = 256

    private let stream: SocketStream
    private let indexesKeys: Bool

    /// Connects to a Redis server.
    ///
    /// - Parameters:
    ///   - address: The server's address.
    ///   - timeout: The bound on each network wait, in seconds.
    ///   - indexesKeys: Whether inserts also add their key to the scan index.
    /// - Throws: ``DriverError`` when the server cannot be reached.
    public init(address: NodeAddress, timeout: Double, indexesKeys: Bool) throws(DriverError) {
        stream = try DriverError.mapping { () throws(KVClientError) in
            try SocketStream(address: address, timeout: timeout)
        }
        self.indexesKeys = indexesKeys
    }

    private static let get: [UInt8] = Array("GET".utf8)
    private static let set: [UInt8] = Array("SET".utf8)

    private static func indexCommand(_ key: [UInt8]) -> [[UInt8]] {
        [Array("ZADD".utf8), indexKey, [0x30], key]
    }

    /// Sends `commands` in one write and reads one reply per command.
    private func roundTrip(_ commands: [[[UInt8]]]) throws(DriverError) -> [RESPValue] {
        var bytes: [UInt8] = []
        for command in commands { RESPValue.appendCommand(command, to: &bytes) }
        try DriverError.mapping { () throws(KVClientError) in try stream.write(bytes) }
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        while replies.count < commands.count {
            if let (value, length) = try RESPValue.parse(stream.unread) {
                stream.consume(length)
                replies.append(value)
            } else {
                try DriverError.mapping { () throws(KVClientError) in try stream.fill() }
            }
        }
        return replies
    }

    private func expectOK(_ reply: RESPValue, _ command: String) throws(DriverError) {
        guard case .simple("OK") = reply else { throw unexpected(command, reply) }
    }

    private func unexpected(_ command: String, _ reply: RESPValue) -> DriverError {
        if case .error(let message) = reply {
            let code = message.split(separator: " ", maxSplits: 1).first.map(String.init) ?? "ERR"
            return DriverError(.server("redis-\(code)"), "\(command): \(message)")
        }
        return DriverError(.badResponse, "unexpected reply to \(command) from \(stream.address)")
    }
}

// MARK: - StoreDriver

extension RedisDriver: StoreDriver {
    /// Reads one key; `nil` when the store has none.
    public func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? {
        switch try roundTrip([[Self.get, key]])[0] {
        case .bulk(let value): return value
        case let other: throw unexpected("GET", other)
        }
    }

    /// Overwrites one key; returns once the store acknowledged it.
    public func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        try expectOK(try roundTrip([[Self.set, key, value]])[0], "SET")
    }

    /// Writes a new key; returns once the store acknowledged it.
    public func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) {
        guard indexesKeys else { return try update(key, value: value) }
        let replies = try roundTrip([[Self.set, key, value], Self.indexCommand(key)])
        try expectOK(replies[0], "SET")
        guard case .integer = replies[1] else { throw unexpected("ZADD", replies[1]) }
    }

    /// Up to `count` records from `start`, in key order.
    public func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        let range = try roundTrip([[
            Array("ZRANGEBYLEX".utf8), Self.indexKey, [0x5B] + start, [0x2B], Array("LIMIT".utf8), [0x30],
            Array(String(count).utf8),
        ]])[0]
        guard case .array(let members?) = range else { throw unexpected("ZRANGEBYLEX", range) }
        var keys: [[UInt8]] = []
        for member in members {
            guard case .bulk(let key?) = member else { throw unexpected("ZRANGEBYLEX", member) }
            keys.append(key)
        }
        if keys.isEmpty { return [] }
        let values = try roundTrip([[Array("MGET".utf8)] + keys])[0]
        guard case .array(let items?) = values, items.count == keys.count else { throw unexpected("MGET", values) }
        var rows: [(key: [UInt8], value: [UInt8]?)] = []
        rows.reserveCapacity(keys.count)
        for (key, item) in zip(keys, items) {
            guard case .bulk(let value) = item else { throw unexpected("MGET", item) }
            rows.append((key, value))
        }
        return rows
    }

    /// The two-key optimistic transaction of `txn-transfer`.
    public func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        let watched = try roundTrip([[Array("WATCH".utf8), first, second], [Array("MGET".utf8), first, second]])
        try expectOK(watched[0], "WATCH")
        guard case .array(let items?) = watched[1], items.count == 2,
              case .bulk(let firstValue) = items[0], case .bulk(let secondValue) = items[1]
        else { throw unexpected("MGET", watched[1]) }
        guard let (newFirst, newSecond) = plan(firstValue, secondValue) else {
            try expectOK(try roundTrip([[Array("UNWATCH".utf8)]])[0], "UNWATCH")
            return .skipped
        }
        let replies = try roundTrip([
            [Array("MULTI".utf8)], [Self.set, first, newFirst], [Self.set, second, newSecond], [Array("EXEC".utf8)],
        ])
        try expectOK(replies[0], "MULTI")
        switch replies[3] {
        case .array(nil):
            return .conflict
        case .array(let results?) where results.count == 2:
            for result in results { try expectOK(result, "SET in EXEC") }
            return .committed
        case let other:
            throw unexpected("EXEC", other)
        }
    }

    /// Writes many pairs with as few round trips as the store allows.
    public func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        var index = 0
        while index < pairs.count {
            let end = min(index + Self.loadPipelineDepth, pairs.count)
            var commands: [[[UInt8]]] = []
            for pair in pairs[index..<end] {
                commands.append([Self.set, pair.key, pair.value])
                if indexed { commands.append(Self.indexCommand(pair.key)) }
            }
            for reply in try roundTrip(commands) {
                if case .error = reply { throw unexpected("SET or ZADD", reply) }
            }
            index = end
        }
    }
}
