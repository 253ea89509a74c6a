/// One request of the line protocol, as the server receives it and the client sends it.
///
/// See `kvproto(7)` for the wire form of each. Keys and values are byte strings.
public enum Request: Sendable, Hashable {
    /// `PING` → `PONG`.
    case ping
    /// `HELLO` → `OK <program> <version> proto=<n> ...`.
    case hello
    /// `GET key` → `VALUE v` or `NIL`.
    case get(key: [UInt8])
    /// `PUT key value` → `OK`, once durable.
    case put(key: [UInt8], value: [UInt8])
    /// `DEL key` → `OK 1` when the key existed, `OK 0` when not, once durable.
    case delete(key: [UInt8])
    /// `SCAN start end [LIMIT n] [REVERSE] [KEYSONLY]` → `ROW key [value]`… then `END` or `END MORE`.
    case scan(ScanRequest)
    /// `STATS` → `OK name=value ...`.
    case stats
    /// `QUIT` → `OK bye`, then the server closes the connection.
    case quit
    /// A request only `kvsched` serves (a kvnode answers `ERR NOT_SUPPORTED`).
    case scheduler(SchedulerRequest)
    /// `RAFT from= seq= last= data=` → `OK`: Raft messages from another store (cluster nodes only).
    case raft(RaftTransferChunk)
    /// `FAULT drop=P delay_ms=N isolate=STORE,...` → `OK`: makes a node drop a fraction of its outgoing Raft
    /// messages, delay them, or cut it off from stores (only with `kvnode --enable-fault-injection`).
    case fault(FaultInjection)
    /// `@REGION:CONF_VER:VERSION` followed by `GET`, `PUT`, `DEL` or `SCAN`: the request, checked against
    /// the region the client believes its key is in (see ``RegionContext``).
    indirect case inRegion(RegionContext, Request)
    /// `SPLIT key` → `ROW <region fields>` for the left and the right region, then `END`: splits the region
    /// holding `key` so that a new region starts at `key` (cluster nodes only; the leader asks kvsched for the
    /// new ids). Splitting where a region already starts answers with the regions as they are.
    case split(key: [UInt8])
    /// A request of the transactional API (`TGET`, `TSCAN`, `PREWRITE`, `COMMIT`, `ROLLBACK`, `CHECK_TXN`,
    /// `RESOLVE`); see ``TxnRequest``.
    case txn(TxnRequest)

    /// Whether the sender reads an answer to this request: all do but a one-way `RAFT` chunk.
    public var expectsAnswer: Bool {
        if case .raft(let chunk) = self { return chunk.expectsReply }
        return true
    }

    /// Whether the request reads stored data (`GET`, `SCAN`, `TGET`, `TSCAN`).
    public var readsData: Bool {
        switch self {
        case .get, .scan: true
        case .txn(let request): request.readsData
        case .inRegion(_, let request): request.readsData
        default: false
        }
    }

    /// Whether the request changes data (and so waits for a durable commit).
    public var isWrite: Bool {
        switch self {
        case .put, .delete, .split: true
        case .txn(let request): !request.readsData
        case .inRegion(_, let request): request.isWrite
        default: false
        }
    }

    /// The request without its region context, and the context if it had one.
    public var withoutContext: (request: Request, context: RegionContext?) {
        if case .inRegion(let context, let request) = self { return (request, context) }
        return (self, nil)
    }
}

/// The arguments of a `SCAN`.
public struct ScanRequest: Sendable, Hashable {
    /// The first key (inclusive); empty for the first key of all.
    public var start: [UInt8]
    /// The key after the last (exclusive); empty for no end.
    public var end: [UInt8]
    /// The most rows to return (at most ``ProtocolLimits/maxScanLimit``).
    public var limit: Int
    /// Return rows from the end of the range down.
    public var reverse: Bool
    /// Return keys without values.
    public var keysOnly: Bool

    /// Creates a scan.
    public init(
        start: [UInt8] = [], end: [UInt8] = [], limit: Int = ProtocolLimits.defaultScanLimit, reverse: Bool = false,
        keysOnly: Bool = false
    ) {
        self.start = start
        self.end = end
        self.limit = limit
        self.reverse = reverse
        self.keysOnly = keysOnly
    }
}

extension ScanRequest {
    /// A scan of the keys that start with `prefix`: `[prefix, successor)`, where the successor increments the
    /// last byte that is not 0xFF (and an all-0xFF or empty prefix has no end).
    ///
    /// - Parameter prefix: The common prefix.
    /// - Returns: A scan with default limit and direction.
    public static func prefix(_ prefix: [UInt8]) -> ScanRequest {
        var end = prefix
        while let last = end.last, last == 0xFF { end.removeLast() }
        if !end.isEmpty { end[end.count - 1] += 1 }
        return ScanRequest(start: prefix, end: end)
    }
}

// MARK: - Parsing

extension Request {
    /// Parses one request line (without its line feed).
    ///
    /// Tokens are separated by one or more spaces; the verb is case-insensitive.
    ///
    /// - Parameter line: The line's bytes.
    /// - Returns: The request.
    /// - Throws: ``ProtocolError`` with ``ErrorCode/unknownCommand``, ``ErrorCode/wrongArity``,
    ///   ``ErrorCode/badEscape``, ``ErrorCode/badArgument``, ``ErrorCode/emptyKey``, ``ErrorCode/keyTooLarge`` or
    ///   ``ErrorCode/valueTooLarge``.
    public static func parse(_ line: ArraySlice<UInt8>) throws(ProtocolError) -> Request {
        let tokens = RequestLine.split(line)
        guard let verbToken = tokens.first else {
            throw ProtocolError(.unknownCommand, "empty request line")
        }
        if verbToken.first == 0x40 {
            let context = try RegionContext(parsing: verbToken)
            let rest = tokens.dropFirst()
            guard let first = rest.first else { throw ProtocolError(.wrongArity, "a region context needs a request after it") }
            let request = try parse(line[first.startIndex...])
            guard request.readsData || request.isWrite, request.withoutContext.context == nil else {
                throw ProtocolError(.badArgument, "a region context goes only before a request about keys")
            }
            return .inRegion(context, request)
        }
        let verb = ProtocolToken.upperCased(verbToken)
        let arguments = tokens.dropFirst()
        switch verb {
        case "PING":
            try expect(arguments, count: 0, usage: "PING")
            return .ping
        case "HELLO":
            try expect(arguments, count: 0, usage: "HELLO")
            return .hello
        case "STATS":
            try expect(arguments, count: 0, usage: "STATS")
            return .stats
        case "QUIT":
            try expect(arguments, count: 0, usage: "QUIT")
            return .quit
        case "GET":
            try expect(arguments, count: 1, usage: "GET key")
            return .get(key: try rawKey(arguments[arguments.startIndex]))
        case "DEL":
            try expect(arguments, count: 1, usage: "DEL key")
            return .delete(key: try rawKey(arguments[arguments.startIndex]))
        case "PUT":
            try expect(arguments, count: 2, usage: "PUT key value")
            let value = try ProtocolToken.decode(arguments[arguments.startIndex + 1])
            guard value.count <= ProtocolLimits.maxValueSize else {
                throw ProtocolError(
                    .valueTooLarge, "value of \(value.count) bytes is over the limit of \(ProtocolLimits.maxValueSize)")
            }
            return .put(key: try rawKey(arguments[arguments.startIndex]), value: value)
        case "SCAN":
            return .scan(try scan(arguments))
        case "SPLIT":
            try expect(arguments, count: 1, usage: "SPLIT key")
            return .split(key: try key(arguments[arguments.startIndex]))
        case "RAFT":
            return .raft(try RaftTransferChunk(fields: try ProtocolFields(parsing: arguments)))
        case "FAULT":
            return .fault(try FaultInjection(fields: try ProtocolFields(parsing: arguments)))
        default:
            if let request = try TxnRequest.parse(verb: verb, arguments) { return .txn(request) }
            if let request = try SchedulerRequest.parse(verb: verb, arguments) { return .scheduler(request) }
            let shown = ProtocolToken.encodeString(verbToken.prefix(32))
            throw ProtocolError(.unknownCommand, "unknown command '\(shown)'")
        }
    }

    private static func expect(_ arguments: ArraySlice<ArraySlice<UInt8>>, count: Int, usage: String) throws(ProtocolError) {
        guard arguments.count == count else {
            throw ProtocolError(.wrongArity, "usage: \(usage) (got \(arguments.count) argument\(arguments.count == 1 ? "" : "s"))")
        }
    }

    private static func key(_ token: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        let key = try ProtocolToken.decode(token)
        try checkKey(key)
        return key
    }

    /// A key of the raw API: within the limits, and outside the transactional key space.
    private static func rawKey(_ token: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        let key = try key(token)
        try checkRawKey(key)
        return key
    }

    /// The first byte of the transactional key space: raw keys must not start with it.
    public static let transactionalKeyPrefix: UInt8 = 0xFF

    /// Checks a raw API key: within the limits, and not starting with byte 0xFF (the transactional key space;
    /// see `kvproto(7)`).
    ///
    /// - Throws: ``ErrorCode/emptyKey``, ``ErrorCode/keyTooLarge`` or ``ErrorCode/badArgument``.
    public static func checkRawKey(_ key: [UInt8]) throws(ProtocolError) {
        try checkKey(key)
        if key.first == transactionalKeyPrefix {
            throw ProtocolError(.badArgument, "raw keys must not start with byte 0xFF (%FF): that key space holds transactional data")
        }
    }

    /// Checks a key against the protocol's limits.
    ///
    /// - Throws: ``ErrorCode/emptyKey`` or ``ErrorCode/keyTooLarge``.
    public static func checkKey(_ key: [UInt8]) throws(ProtocolError) {
        if key.isEmpty { throw ProtocolError(.emptyKey, "keys must not be empty") }
        if key.count > ProtocolLimits.maxKeySize {
            throw ProtocolError(.keyTooLarge, "key of \(key.count) bytes is over the limit of \(ProtocolLimits.maxKeySize)")
        }
    }

    private static func scan(_ arguments: ArraySlice<ArraySlice<UInt8>>) throws(ProtocolError) -> ScanRequest {
        let usage = "usage: SCAN start end [LIMIT n] [REVERSE] [KEYSONLY] (\"\" for an open end)"
        guard arguments.count >= 2 else { throw ProtocolError(.wrongArity, usage) }
        var request = ScanRequest(
            start: try ProtocolToken.decode(arguments[arguments.startIndex]),
            end: try ProtocolToken.decode(arguments[arguments.startIndex + 1]))
        var index = arguments.startIndex + 2
        while index < arguments.endIndex {
            let option = String(decoding: arguments[index], as: UTF8.self).uppercased()
            switch option {
            case "LIMIT":
                guard index + 1 < arguments.endIndex else { throw ProtocolError(.wrongArity, usage) }
                let limit = try ProtocolToken.decodeNumber(arguments[index + 1], name: "LIMIT")
                guard limit >= 1 && limit <= ProtocolLimits.maxScanLimit else {
                    throw ProtocolError(.badArgument, "LIMIT must be 1...\(ProtocolLimits.maxScanLimit)")
                }
                request.limit = limit
                index += 2
            case "REVERSE":
                request.reverse = true
                index += 1
            case "KEYSONLY":
                request.keysOnly = true
                index += 1
            default:
                throw ProtocolError(.badArgument, "unknown SCAN option '\(ProtocolToken.encodeString(arguments[index].prefix(32)))'; \(usage)")
            }
        }
        return request
    }
}

// MARK: - Encoding

extension Request {
    /// The request as one line, with its line feed.
    public var encoded: [UInt8] {
        var line: [UInt8] = []
        func word(_ text: String) { line.append(contentsOf: text.utf8) }
        func token(_ bytes: [UInt8]) {
            line.append(0x20)
            ProtocolToken.append(bytes, to: &line)
        }
        switch self {
        case .ping: word("PING")
        case .hello: word("HELLO")
        case .stats: word("STATS")
        case .quit: word("QUIT")
        case .get(let key):
            word("GET")
            token(key)
        case .delete(let key):
            word("DEL")
            token(key)
        case .split(let key):
            word("SPLIT")
            token(key)
        case .put(let key, let value):
            word("PUT")
            token(key)
            token(value)
        case .scan(let scan):
            word("SCAN")
            token(scan.start)
            token(scan.end)
            word(" LIMIT \(scan.limit)")
            if scan.reverse { word(" REVERSE") }
            if scan.keysOnly { word(" KEYSONLY") }
        case .scheduler(let request):
            word(request.words.joined(separator: " "))
        case .raft(let chunk):
            // Straight into the line: a chunk's data is up to 512 KiB, so no String on the way.
            word("RAFT")
            chunk.fields.append(to: &line)
        case .fault(let fault):
            word((["FAULT"] + fault.fields.words).joined(separator: " "))
        case .txn(let request):
            request.append(to: &line)
        case .inRegion(let context, let request):
            word(context.token + " ")
            line.append(contentsOf: request.encoded.dropLast())
        }
        line.append(0x0A)
        return line
    }
}

/// Splitting of a request line into tokens.
public enum RequestLine {
    /// The tokens of `line`, separated by runs of spaces.
    public static func split(_ line: ArraySlice<UInt8>) -> ArraySlice<ArraySlice<UInt8>> {
        // By hand: the generic `split(separator:)` called a closure per byte, and a `RAFT` line is long.
        var tokens: [ArraySlice<UInt8>] = []
        line.withUnsafeBufferPointer { bytes in
            var index = 0
            while index < bytes.count {
                while index < bytes.count && bytes[index] == 0x20 { index += 1 }
                let start = index
                while index < bytes.count && bytes[index] != 0x20 { index += 1 }
                if index > start { tokens.append(line[(line.startIndex + start)..<(line.startIndex + index)]) }
            }
        }
        return tokens[...]
    }
}
