/// A request of the transactional (Percolator) API. Keys are user keys; timestamps come from the timestamp
/// oracle (kvsched's `TSO`, or a standalone node's). See `kvproto(7)`.
public enum TxnRequest: Sendable, Hashable {
    /// `TGET key start_ts` → `VALUE v` / `NIL` as of `start_ts`, or `ERR LOCKED` when an older transaction
    /// holds a lock on the key.
    case get(key: [UInt8], startTS: UInt64)
    /// `TMGET start_ts key…` → `ROW start_ts=N`, then `ROW key value` (`ROW key` when absent) per key in the
    /// order given, `END` (see ``TxnBatchRead``); `ERR LOCKED` for the first key an older transaction holds
    /// a lock on. `start_ts` 0 on a standalone node: read at a timestamp the node takes from its oracle as it
    /// reads (a transaction's start and first read in one round trip); the answer's first row says which.
    case batchGet(keys: [[UInt8]], startTS: UInt64)
    /// `TSCAN start end start_ts [LIMIT n] [KEYSONLY]` → `ROW key value`… `END [MORE]` as of `start_ts`.
    case scan(TxnScan)
    /// `PREWRITE primary start_ts ttl_ms mutation…` (mutation: `PUT key value`, `DEL key`, `LOCK key`) →
    /// `OK`, or `ERR LOCKED` / `ERR WRITE_CONFLICT` / `ERR ABORTED` with nothing written.
    case prewrite(TxnPrewrite)
    /// `COMMIT start_ts commit_ts key…` → `OK` (also when already committed), `ERR ABORTED` when the
    /// transaction was rolled back, `ERR TXN_LOCK_NOT_FOUND` when it never locked a key.
    case commit(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]])
    /// `ROLLBACK start_ts key…` → `OK`, leaving rollback records so a late prewrite fails;
    /// `ERR ALREADY_COMMITTED` when a key is committed.
    case rollback(startTS: UInt64, keys: [[UInt8]])
    /// `CHECK_TXN primary start_ts current_ts` → `OK status=committed commit_ts=N`, `OK status=rolled_back`, or
    /// `OK status=locked ttl=N`; a lock whose TTL ran out by `current_ts` is rolled back first, and a
    /// transaction never seen is marked rolled back.
    case checkStatus(primary: [UInt8], startTS: UInt64, currentTS: UInt64)
    /// `RESOLVE start_ts commit_ts [key…]` → `OK resolved=N`: commits (`commit_ts` > 0) or rolls back (0) the
    /// transaction's locks on the keys — on every key of the region when none are given.
    case resolve(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]])
    /// `GC safe_point mode key…` → `OK deleted=N`: removes what of the keys no read at or after `safe_point`
    /// can see. Mode `full`: older commit records and their values, a newest delete, rollback and lock-only
    /// records at or below it; mode `values`: only the values of older versions and rollback records (commit
    /// records stay, so a transaction's state can still be read from its primary while locks of it may remain
    /// elsewhere). A key holding a lock at or below the safe point is left alone. Nodes send it to themselves.
    case gc(safePoint: UInt64, mode: TxnGCMode, keys: [[UInt8]])
    /// `ONE_PC start_ts 0 mutation…` → `OK commit_ts=N`: prewrite and commit in one step, for a transaction
    /// whose keys all lie in one region of a standalone node. The node takes the commit timestamp itself (it
    /// is the oracle) and writes it into the Raft entry (`ONE_PC start_ts commit_ts …`); refusals as for
    /// `PREWRITE`; a repeated request answers the commit timestamp of the first.
    case commitOnePhase(startTS: UInt64, commitTS: UInt64, mutations: [TxnMutation])

    /// Whether it only reads.
    public var readsData: Bool {
        switch self {
        case .get, .batchGet, .scan: true
        default: false
        }
    }

    /// Whether it reads at a timestamp the node takes as it reads (`TMGET 0`).
    public var readsAtFreshTimestamp: Bool {
        if case .batchGet(_, 0) = self { return true }
        return false
    }

    /// The request's verb, for messages.
    public var verb: String {
        switch self {
        case .get: "TGET"
        case .batchGet: "TMGET"
        case .scan: "TSCAN"
        case .prewrite: "PREWRITE"
        case .commit: "COMMIT"
        case .rollback: "ROLLBACK"
        case .checkStatus: "CHECK_TXN"
        case .resolve: "RESOLVE"
        case .gc: "GC"
        case .commitOnePhase: "ONE_PC"
        }
    }

    /// An upper bound on the length of its request line (every byte escaped), found without encoding it.
    public var lineLengthBound: Int {
        // A key or value: escaped, with its separator and a verb word (` PUT`) before it.
        func bound(_ bytes: [UInt8]) -> Int { 3 * bytes.count + 8 }
        let words = 96  // the verb, up to three numbers, LIMIT and the like
        switch self {
        case .get(let key, _), .checkStatus(let key, _, _):
            return words + bound(key)
        case .batchGet(let keys, _), .commit(_, _, let keys), .rollback(_, let keys), .resolve(_, _, let keys), .gc(_, _, let keys):
            return words + keys.reduce(0) { $0 + bound($1) }
        case .scan(let scan):
            return words + bound(scan.start) + bound(scan.end)
        case .prewrite(let prewrite):
            return words + bound(prewrite.primary) + prewrite.mutations.reduce(0) { $0 + bound($1.key) + bound($1.value) }
        case .commitOnePhase(_, _, let mutations):
            return words + mutations.reduce(0) { $0 + bound($1.key) + bound($1.value) }
        }
    }

    /// Bytes of the values it carries (a prewrite's puts).
    public var valueBytes: Int {
        switch self {
        case .prewrite(let prewrite): prewrite.mutations.reduce(0) { $0 + $1.value.count }
        case .commitOnePhase(_, _, let mutations): mutations.reduce(0) { $0 + $1.value.count }
        default: 0
        }
    }

    /// The user keys it is about, in the order given (a scan's start key).
    public var keys: [[UInt8]] {
        switch self {
        case .get(let key, _): [key]
        case .batchGet(let keys, _): keys
        case .scan(let scan): [scan.start]
        case .prewrite(let prewrite): prewrite.mutations.map(\.key)
        case .commit(_, _, let keys), .rollback(_, let keys), .resolve(_, _, let keys), .gc(_, _, let keys): keys
        case .commitOnePhase(_, _, let mutations): mutations.map(\.key)
        case .checkStatus(let primary, _, _): [primary]
        }
    }
}

/// What a `GC` command removes (see ``TxnRequest/gc(safePoint:mode:keys:)``).
public enum TxnGCMode: String, Sendable, Hashable {
    /// Everything no read at or after the safe point can see.
    case full
    /// The values of older versions and rollback records; commit records stay.
    case values
}

/// The longest lock TTL a prewrite may ask for, in milliseconds (a day).
public let maxLockTTL: UInt64 = 86_400_000

/// One key's change in a prewrite.
public struct TxnMutation: Sendable, Hashable {
    /// What it does to the key.
    public enum Kind: UInt8, Sendable, Hashable {
        /// `PUT key value`: writes a value.
        case put = 1
        /// `DEL key`: removes the key.
        case delete = 2
        /// `LOCK key`: changes nothing, but conflicts with writers (to guard a value read).
        case lock = 3
    }

    /// What it does.
    public var kind: Kind
    /// The user key.
    public var key: [UInt8]
    /// The value of a put (empty otherwise).
    public var value: [UInt8]

    /// Creates a mutation.
    public init(_ kind: Kind, key: [UInt8], value: [UInt8] = []) {
        self.kind = kind
        self.key = key
        self.value = value
    }
}

/// The arguments of a `PREWRITE`.
public struct TxnPrewrite: Sendable, Hashable {
    /// The transaction's primary key (it need not be among this request's keys).
    public var primary: [UInt8]
    /// The transaction's start timestamp.
    public var startTS: UInt64
    /// Milliseconds after `startTS`'s physical time until others may roll the transaction back.
    public var ttl: UInt64
    /// The changes, one per key.
    public var mutations: [TxnMutation]

    /// Creates a prewrite.
    public init(primary: [UInt8], startTS: UInt64, ttl: UInt64, mutations: [TxnMutation]) {
        self.primary = primary
        self.startTS = startTS
        self.ttl = ttl
        self.mutations = mutations
    }
}

/// The arguments of a `TSCAN`.
public struct TxnScan: Sendable, Hashable {
    /// The first user key (inclusive).
    public var start: [UInt8]
    /// The user key after the last (exclusive); empty for no end.
    public var end: [UInt8]
    /// The snapshot's timestamp.
    public var startTS: UInt64
    /// The most rows to return.
    public var limit: Int
    /// Return keys without values.
    public var keysOnly: Bool

    /// Creates a scan.
    public init(start: [UInt8], end: [UInt8], startTS: UInt64, limit: Int = ProtocolLimits.defaultScanLimit, keysOnly: Bool = false) {
        self.start = start
        self.end = end
        self.startTS = startTS
        self.limit = limit
        self.keysOnly = keysOnly
    }
}

/// A lock met by a transactional read or prewrite, as `ERR LOCKED` reports it:
/// `key=K primary=P start_ts=N ttl=N kind=put|delete|lock`.
public struct LockInfo: Sendable, Hashable {
    /// The locked user key.
    public var key: [UInt8]
    /// The primary key of the transaction holding the lock.
    public var primary: [UInt8]
    /// The start timestamp of the transaction holding the lock.
    public var startTS: UInt64
    /// The lock's time to live in milliseconds (from `startTS`'s physical time).
    public var ttl: UInt64
    /// What the transaction does to the key.
    public var kind: TxnMutation.Kind

    /// Creates a lock description.
    public init(key: [UInt8], primary: [UInt8], startTS: UInt64, ttl: UInt64, kind: TxnMutation.Kind) {
        self.key = key
        self.primary = primary
        self.startTS = startTS
        self.ttl = ttl
        self.kind = kind
    }

    /// The `ERR LOCKED` answer.
    public var error: ProtocolError {
        var fields = ProtocolFields()
        fields.append("key", bytes: key)
        fields.append("primary", bytes: primary)
        fields.append("start_ts", startTS)
        fields.append("ttl", ttl)
        fields.append("kind", kind.word)
        return ProtocolError(.locked, fields.words.joined(separator: " "))
    }

    /// Reads the lock out of an `ERR LOCKED` message.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when the message does not describe a lock.
    public init(message: String) throws(ProtocolError) {
        let fields = try ProtocolFields(parsing: message.split(separator: " ").map { Array($0.utf8)[...] })
        let kindWord = try fields.text("kind")
        guard let kind = TxnMutation.Kind(word: kindWord) else { throw ProtocolError(.badArgument, "unknown lock kind \(kindWord)") }
        self.init(
            key: try fields.bytes("key"), primary: try fields.bytes("primary"), startTS: try fields.number("start_ts"),
            ttl: try fields.number("ttl"), kind: kind)
    }
}

extension TxnMutation.Kind {
    /// `put`, `delete` or `lock`.
    public var word: String {
        switch self {
        case .put: "put"
        case .delete: "delete"
        case .lock: "lock"
        }
    }

    /// Reads ``word``.
    public init?(word: String) {
        switch word {
        case "put": self = .put
        case "delete": self = .delete
        case "lock": self = .lock
        default: return nil
        }
    }
}

extension ErrorCode {
    /// A transactional read or prewrite met another transaction's lock; the message describes it
    /// (``LockInfo``). Resolve it (check the primary) and retry.
    public static let locked = ErrorCode(rawValue: "LOCKED")
    /// A prewrite found a write committed after the transaction started: the transaction must abort.
    public static let writeConflict = ErrorCode(rawValue: "WRITE_CONFLICT")
    /// `ROLLBACK` of a transaction that already committed the key.
    public static let alreadyCommitted = ErrorCode(rawValue: "ALREADY_COMMITTED")
    /// `COMMIT` found neither the transaction's lock nor its commit record.
    public static let txnLockNotFound = ErrorCode(rawValue: "TXN_LOCK_NOT_FOUND")
}

// MARK: - Parsing

extension TxnRequest {
    /// Parses the arguments of a transactional verb; nil when `verb` is not one.
    ///
    /// - Throws: ``ProtocolError`` for bad arguments.
    static func parse(verb: String, _ arguments: ArraySlice<ArraySlice<UInt8>>) throws(ProtocolError) -> TxnRequest? {
        var reader = ArgumentReader(arguments: arguments)
        switch verb {
        case "TGET":
            reader.usage = "TGET key start_ts"
            let request = TxnRequest.get(key: try reader.key(), startTS: try reader.timestamp("start_ts"))
            try reader.finish()
            return request
        case "TMGET":
            reader.usage = "TMGET start_ts key... (start_ts 0: a fresh one, on a standalone node)"
            let startTS = try reader.timestamp("start_ts")
            let keys = try reader.keys(atLeastOne: true)
            guard keys.count <= TxnBatchRead.maxKeys else {
                throw ProtocolError(.badArgument, "TMGET reads at most \(TxnBatchRead.maxKeys) keys")
            }
            return .batchGet(keys: keys, startTS: startTS)
        case "TSCAN":
            reader.usage = "TSCAN start end start_ts [LIMIT n] [KEYSONLY] (\"\" for an open end)"
            var scan = TxnScan(start: try reader.bytes(), end: try reader.bytes(), startTS: try reader.timestamp("start_ts"))
            while let option = reader.next() {
                switch String(decoding: option, as: UTF8.self).uppercased() {
                case "LIMIT":
                    let limit = try ProtocolToken.decodeNumber(try reader.required(), name: "LIMIT")
                    guard limit >= 1 && limit <= ProtocolLimits.maxScanLimit else {
                        throw ProtocolError(.badArgument, "LIMIT must be 1...\(ProtocolLimits.maxScanLimit)")
                    }
                    scan.limit = limit
                case "KEYSONLY":
                    scan.keysOnly = true
                default:
                    throw ProtocolError(.badArgument, "unknown TSCAN option; usage: \(reader.usage)")
                }
            }
            return .scan(scan)
        case "PREWRITE":
            reader.usage = "PREWRITE primary start_ts ttl_ms (PUT key value | DEL key | LOCK key)..."
            var prewrite = TxnPrewrite(
                primary: try reader.key(), startTS: try reader.timestamp("start_ts"), ttl: try reader.timestamp("ttl_ms"),
                mutations: [])
            guard prewrite.ttl <= maxLockTTL else { throw ProtocolError(.badArgument, "ttl_ms must be at most \(maxLockTTL)") }
            prewrite.mutations = try Self.mutations(&reader)
            return .prewrite(prewrite)
        case "ONE_PC":
            reader.usage = "ONE_PC start_ts 0 (PUT key value | DEL key | LOCK key)..."
            let startTS = try reader.timestamp("start_ts")
            let commitTS = try reader.timestamp("commit_ts")
            guard commitTS == 0 || commitTS > startTS else { throw ProtocolError(.badArgument, "commit_ts must be 0 or greater than start_ts") }
            return .commitOnePhase(startTS: startTS, commitTS: commitTS, mutations: try Self.mutations(&reader))
        case "COMMIT":
            reader.usage = "COMMIT start_ts commit_ts key..."
            let startTS = try reader.timestamp("start_ts")
            let commitTS = try reader.timestamp("commit_ts")
            guard commitTS > startTS else { throw ProtocolError(.badArgument, "commit_ts must be greater than start_ts") }
            return .commit(startTS: startTS, commitTS: commitTS, keys: try reader.keys(atLeastOne: true))
        case "ROLLBACK":
            reader.usage = "ROLLBACK start_ts key..."
            return .rollback(startTS: try reader.timestamp("start_ts"), keys: try reader.keys(atLeastOne: true))
        case "CHECK_TXN":
            reader.usage = "CHECK_TXN primary start_ts current_ts"
            let request = TxnRequest.checkStatus(
                primary: try reader.key(), startTS: try reader.timestamp("start_ts"), currentTS: try reader.timestamp("current_ts"))
            try reader.finish()
            return request
        case "RESOLVE":
            reader.usage = "RESOLVE start_ts commit_ts [key...] (commit_ts 0 rolls back)"
            let startTS = try reader.timestamp("start_ts")
            let commitTS = try reader.timestamp("commit_ts")
            guard commitTS == 0 || commitTS > startTS else { throw ProtocolError(.badArgument, "commit_ts must be 0 or greater than start_ts") }
            return .resolve(startTS: startTS, commitTS: commitTS, keys: try reader.keys(atLeastOne: false))
        case "GC":
            reader.usage = "GC safe_point full|values key..."
            let safePoint = try reader.timestamp("safe_point")
            guard let mode = TxnGCMode(rawValue: String(decoding: try reader.required(), as: UTF8.self)) else {
                throw ProtocolError(.badArgument, "usage: \(reader.usage)")
            }
            return .gc(safePoint: safePoint, mode: mode, keys: try reader.keys(atLeastOne: true))
        default:
            return nil
        }
    }

    /// The `PUT key value`, `DEL key`, `LOCK key` words left on a request line, each key once.
    private static func mutations(_ reader: inout ArgumentReader) throws(ProtocolError) -> [TxnMutation] {
        var mutations: [TxnMutation] = []
        var seen = Set<ByteKey>()
        while let word = reader.next() {
            let mutation: TxnMutation
            switch ProtocolToken.upperCased(word) {
            case "PUT":
                let key = try reader.key()
                let value = try ProtocolToken.decode(try reader.required())
                guard value.count <= ProtocolLimits.maxValueSize else {
                    throw ProtocolError(.valueTooLarge, "value of \(value.count) bytes is over the limit of \(ProtocolLimits.maxValueSize)")
                }
                mutation = TxnMutation(.put, key: key, value: value)
            case "DEL": mutation = TxnMutation(.delete, key: try reader.key())
            case "LOCK": mutation = TxnMutation(.lock, key: try reader.key())
            default: throw ProtocolError(.badArgument, "expected PUT, DEL or LOCK; usage: \(reader.usage)")
            }
            guard seen.insert(ByteKey(mutation.key)).inserted else {
                throw ProtocolError(.badArgument, "key '\(ProtocolToken.encodeString(mutation.key.prefix(32)))' appears twice in one request")
            }
            mutations.append(mutation)
        }
        guard !mutations.isEmpty else { throw ProtocolError(.wrongArity, "usage: \(reader.usage)") }
        return mutations
    }

    /// Appends the verb and arguments as words of a request line (no line feed).
    public func append(to line: inout [UInt8]) {
        func word(_ text: StaticString) { line.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)) }
        func token(_ bytes: [UInt8]) {
            line.append(0x20)
            ProtocolToken.append(bytes, to: &line)
        }
        func number(_ value: UInt64) {
            line.append(0x20)
            ProtocolToken.appendDecimal(value, to: &line)
        }
        func mutationWords(_ mutations: [TxnMutation]) {
            for mutation in mutations {
                switch mutation.kind {
                case .put:
                    word(" PUT")
                    token(mutation.key)
                    token(mutation.value)
                case .delete:
                    word(" DEL")
                    token(mutation.key)
                case .lock:
                    word(" LOCK")
                    token(mutation.key)
                }
            }
        }
        switch self {
        case .get(let key, let startTS):
            word("TGET")
            token(key)
            number(startTS)
        case .batchGet(let keys, let startTS):
            word("TMGET")
            number(startTS)
            keys.forEach(token)
        case .scan(let scan):
            word("TSCAN")
            token(scan.start)
            token(scan.end)
            number(scan.startTS)
            word(" LIMIT")
            line.append(contentsOf: " \(scan.limit)".utf8)  // an Int: not through appendDecimal
            if scan.keysOnly { word(" KEYSONLY") }
        case .prewrite(let prewrite):
            word("PREWRITE")
            token(prewrite.primary)
            number(prewrite.startTS)
            number(prewrite.ttl)
            mutationWords(prewrite.mutations)
        case .commitOnePhase(let startTS, let commitTS, let mutations):
            word("ONE_PC")
            number(startTS)
            number(commitTS)
            mutationWords(mutations)
        case .commit(let startTS, let commitTS, let keys):
            word("COMMIT")
            number(startTS)
            number(commitTS)
            keys.forEach(token)
        case .rollback(let startTS, let keys):
            word("ROLLBACK")
            number(startTS)
            keys.forEach(token)
        case .checkStatus(let primary, let startTS, let currentTS):
            word("CHECK_TXN")
            token(primary)
            number(startTS)
            number(currentTS)
        case .resolve(let startTS, let commitTS, let keys):
            word("RESOLVE")
            number(startTS)
            number(commitTS)
            keys.forEach(token)
        case .gc(let safePoint, let mode, let keys):
            word("GC")
            number(safePoint)
            line.append(0x20)
            line.append(contentsOf: mode.rawValue.utf8)
            keys.forEach(token)
        }
    }
}

/// Reads a request's arguments one by one, with the usage line for errors.
private struct ArgumentReader {
    var arguments: ArraySlice<ArraySlice<UInt8>>
    var usage = ""

    mutating func next() -> ArraySlice<UInt8>? { arguments.popFirst() }

    mutating func required() throws(ProtocolError) -> ArraySlice<UInt8> {
        guard let token = arguments.popFirst() else { throw ProtocolError(.wrongArity, "usage: \(usage)") }
        return token
    }

    mutating func bytes() throws(ProtocolError) -> [UInt8] { try ProtocolToken.decode(try required()) }

    mutating func key() throws(ProtocolError) -> [UInt8] {
        let key = try bytes()
        try Request.checkKey(key)
        return key
    }

    mutating func timestamp(_ name: String) throws(ProtocolError) -> UInt64 {
        let token = try required()
        guard let value = UInt64(String(decoding: token, as: UTF8.self)), token.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ProtocolError(.badArgument, "\(name) must be an unsigned decimal number; usage: \(usage)")
        }
        return value
    }

    mutating func keys(atLeastOne: Bool) throws(ProtocolError) -> [[UInt8]] {
        var keys: [[UInt8]] = []
        while !arguments.isEmpty { keys.append(try key()) }
        if atLeastOne && keys.isEmpty { throw ProtocolError(.wrongArity, "usage: \(usage)") }
        return keys
    }

    func finish() throws(ProtocolError) {
        guard arguments.isEmpty else { throw ProtocolError(.wrongArity, "usage: \(usage) (too many arguments)") }
    }
}
