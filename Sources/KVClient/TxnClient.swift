import Dispatch
import KVProtocol
import Synchronization
import Txn

#if canImport(Glibc)
import Glibc
#endif

/// The transactional API: snapshot-isolated transactions with Percolator's two-phase commit, over one node
/// or a cluster.
///
/// ```swift
/// let client = try TxnClient.node(try NodeAddress(parsing: "127.0.0.1:20160"))
/// let txn = try client.begin()
/// let balance = try txn.get(Array("alice".utf8))
/// txn.put(Array("alice".utf8), Array("90".utf8))
/// let commitTS = try txn.commit()   // throws WRITE_CONFLICT when someone else wrote alice since begin()
/// client.close()                    // waits for secondary commits still going on in the background
/// ```
///
/// Used by one thread at a time. Secondary keys are committed on a background thread with a connection of
/// its own; a reader that meets one of their locks first rolls it forward itself.
public final class TxnClient {
    /// Where requests go (replaced by a fresh connection after a connection failure, for one node).
    public private(set) var transport: any TxnTransport
    /// Opens a new transport after the current one failed (one node's connection cannot recover from a
    /// timeout: a late answer would be taken for the next request's); nil where the transport heals itself.
    private let reconnect: (() throws(KVClientError) -> any TxnTransport)?
    /// Milliseconds a transaction's locks live before others may roll it back (from its start timestamp).
    public var lockTTL: UInt64 = 3_000
    /// Seconds a read may wait for a live lock, or a commit keep retrying, before giving up.
    public var deadline: Double = 10
    /// Whether a transaction whose keys lie in one region commits in one step (`ONE_PC`, a standalone node
    /// only); turned off when the node refuses it.
    public var onePhaseCommit = false
    /// Whether ``begin(reading:)`` starts with `TMGET 0` (the node takes the start timestamp as it reads; a
    /// standalone node only); turned off when the node refuses it.
    public var startsWithRead = false
    private let secondaries: SecondaryCommitter?
    private let batcher: TimestampBatcher?

    /// Creates a client over `transport`; secondaries are committed in the background over transports made by
    /// `background` (or in the foreground, after the primary, when nil); timestamps come from `timestamps`
    /// (shared by the clients of a process) or else from the transport.
    public init(
        transport: any TxnTransport, background: (@Sendable () throws(KVClientError) -> any TxnTransport)? = nil,
        timestamps: TimestampBatcher? = nil, reconnect: (() throws(KVClientError) -> any TxnTransport)? = nil
    ) {
        self.transport = transport
        self.reconnect = reconnect
        self.secondaries = background.map(SecondaryCommitter.init)
        self.batcher = timestamps
    }

    /// A client of one node (a standalone kvnode hands out the timestamps).
    ///
    /// - Parameter timestamps: A batcher shared with other clients of the node, if any.
    /// - Throws: ``KVClientError`` when the node cannot be reached.
    public static func node(_ address: NodeAddress, timeout: Double? = 10, timestamps: TimestampBatcher? = nil) throws(KVClientError) -> TxnClient {
        let client = TxnClient(
            transport: try NodeClient(address: address, timeout: timeout),
            background: { () throws(KVClientError) in try NodeClient(address: address, timeout: timeout) },
            timestamps: timestamps,
            reconnect: { () throws(KVClientError) in try NodeClient(address: address, timeout: timeout) })
        client.onePhaseCommit = true
        client.startsWithRead = true
        return client
    }

    /// A client of a cluster (kvsched hands out the timestamps and knows the regions).
    ///
    /// - Parameter timestamps: A batcher shared with other clients of the cluster, if any.
    public static func cluster(scheduler: NodeAddress, deadline: Double = 10, timestamps: TimestampBatcher? = nil) -> TxnClient {
        let client = TxnClient(transport: ClusterClient(scheduler: scheduler, deadline: deadline), background: {
            ClusterClient(scheduler: scheduler, deadline: deadline)
        }, timestamps: timestamps)
        client.deadline = deadline
        return client
    }

    /// Starts a transaction at a fresh timestamp.
    ///
    /// - Throws: ``KVClientError`` when no timestamp could be had.
    public func begin() throws(KVClientError) -> Transaction {
        Transaction(client: self, startTS: try timestamp())
    }

    /// Starts a transaction and reads `keys` in its snapshot. On a standalone node that is one round trip: the
    /// node takes the start timestamp as it reads (`TMGET 0`). Elsewhere, or when the read meets a lock or a
    /// commit being applied, it is ``begin()`` then ``Transaction/get(_:)-([[UInt8]])``, which wait and
    /// resolve.
    ///
    /// - Returns: The transaction and the values of `keys`, in order (nil: absent).
    /// - Throws: As ``begin()`` and ``Transaction/get(_:)-([[UInt8]])``.
    public func begin(reading keys: [[UInt8]]) throws(KVClientError) -> (transaction: Transaction, values: [[UInt8]?]) {
        if startsWithRead, !keys.isEmpty, keys.count <= TxnBatchRead.maxKeys {
            do throws(KVClientError) {
                let response = try transport.send(.batchGet(keys: keys, startTS: 0))
                let answer: TxnBatchRead
                do { answer = try TxnBatchRead(parsing: response, keys: keys) } catch { throw KVClientError(error) }
                return (Transaction(client: self, startTS: answer.startTS), answer.rows.map(\.value))
            } catch {
                if error.kind == .server(.notSupported) || error.kind == .server(.unknownCommand) { startsWithRead = false }
                // A connection failure, or an answer not understood (the stream may be out of step): a new one.
                if error.isConnectionFailure || error.kind == .outcomeUnknown || error.kind == .badResponse { transportFailed() }
                // Otherwise a lock or a pending commit in the way: the way below waits for it or resolves it.
            }
        }
        let transaction = try begin()
        return (transaction, try transaction.get(keys))
    }

    /// A fresh timestamp, through the shared batcher if there is one.
    func timestamp() throws(KVClientError) -> UInt64 {
        if let batcher { return try batcher.next() }
        return try transport.timestamp()
    }

    /// Waits until the secondary commits queued so far are done (or given up on: readers roll them forward).
    public func close() {
        secondaries?.drain()
    }

    /// Sends a transactional command, again while its answer is lost (a connection broke, a leader changed):
    /// every command of the protocol may be repeated — a transaction's prewrite recognizes its own locks,
    /// commits and rollbacks find their own records — so a lost answer never leaves the outcome unknown while
    /// there is time to ask again.
    ///
    /// - Throws: ``KVClientError``: a definite answer (`WRITE_CONFLICT`, `ABORTED`, ...) as it is; once
    ///   ``deadline`` passed, `OUTCOME_UNKNOWN` if any attempt of a write went out without an answer (a later
    ///   refusal does not say the earlier attempt did not apply), else the last failure.
    func send(_ request: TxnRequest) throws(KVClientError) -> Response {
        let end = monotonicNow() + deadline
        var backoff = 0.001
        var answerLost: KVClientError?
        while true {
            do {
                return try transport.send(request)
            } catch {
                let sentUnanswered = error.kind == .outcomeUnknown || (error.isConnectionFailure && !request.readsData)
                if sentUnanswered { answerLost = error }
                if error.isConnectionFailure || error.kind == .outcomeUnknown { transportFailed() }
                // Routing refusals had no effect; KEY_NOT_IN_REGION goes to the caller, which regroups the keys.
                let refusedForRouting = error.code.map(ClusterClient.isRoutingRefusal) ?? false
                let retryable = sentUnanswered || error.isConnectionFailure
                    || (refusedForRouting && error.kind != .server(.keyNotInRegion))
                guard retryable else {
                    // A refusal of a repeat does not say the attempt whose answer was lost did not apply (say, a
                    // one-phase commit that did, then its repeat refused as below the GC safe point).
                    if let answerLost {
                        throw KVClientError(.outcomeUnknown, "no answer came for a \(request.verb) that was sent (\(answerLost.message)), and its repeat was refused: \(error.message)")
                    }
                    throw error
                }
                guard monotonicNow() < end else {
                    if let answerLost {
                        throw KVClientError(.outcomeUnknown, "no answer came for a \(request.verb) that was sent (\(answerLost.message)); it may or may not have applied")
                    }
                    throw error
                }
                usleep(UInt32(backoff * 1_000_000))
                backoff = min(backoff * 2, 0.2)
            }
        }
    }

    /// Replaces a one-node transport whose connection failed (no-op for a cluster's, which reconnects itself).
    func transportFailed() {
        guard let reconnect, let fresh = try? reconnect() else { return }
        transport = fresh
    }

    // MARK: - Reading through locks

    /// Sends a read, resolving the locks it meets: an abandoned transaction's lock is rolled back (or forward,
    /// if its primary committed); a live one is waited for, up to ``deadline``.
    func read(_ request: TxnRequest) throws(KVClientError) -> Response {
        try withLocksResolved { () throws(KVClientError) in try send(request) }
    }

    /// One scan page, resolving locks as ``read(_:)`` does.
    func scanPage(_ scan: TxnScan) throws(KVClientError) -> (rows: [ScanRow], next: [UInt8]?) {
        try withLocksResolved { () throws(KVClientError) in try transport.scanPage(scan) }
    }

    /// Runs `body` until it does not fail on a lock, resolving each lock met.
    func withLocksResolved<T>(_ body: () throws(KVClientError) -> T) throws(KVClientError) -> T {
        let end = monotonicNow() + deadline
        var backoff = 0.002
        while true {
            do {
                return try body()
            } catch where error.kind == .server(.locked) {
                let lock = try Self.lockInfo(in: error)
                if try resolve(lock) { continue }
                guard monotonicNow() < end else {
                    throw KVClientError(.server(.locked), "\(error.message) (still locked after \(deadline) s)")
                }
                usleep(UInt32(backoff * 1_000_000))
                backoff = min(backoff * 2, 0.1)
            } catch where error.kind == .server(.serverBusy) && monotonicNow() < end {
                // A one-phase commit of a key being applied (a scan page meets it too): it will be visible soon.
                usleep(UInt32(backoff * 1_000_000))
                backoff = min(backoff * 2, 0.1)
            }
        }
    }

    /// Settles the transaction holding `lock` on its key if it is finished or abandoned: asks its primary,
    /// then commits or rolls back the lock (an expired primary is rolled back).
    ///
    /// - Returns: False when the transaction is alive (its lock's TTL has not run out): wait and retry.
    /// - Throws: ``KVClientError`` when the nodes cannot be reached.
    public func resolve(_ lock: LockInfo) throws(KVClientError) -> Bool {
        let now = try timestamp()
        let status = try send(.checkStatus(primary: lock.primary, startTS: lock.startTS, currentTS: now))
        guard case .ok(let words) = status else { throw KVClientError(.badResponse, "unexpected answer to CHECK_TXN") }
        let fields = (try? ProtocolFields(parsing: words)) ?? ProtocolFields()
        switch fields["status"].map({ String(decoding: $0, as: UTF8.self) }) {
        case "locked":
            return false
        case "committed":
            guard let commitTS = try? fields.number("commit_ts") else { throw KVClientError(.badResponse, "CHECK_TXN without commit_ts") }
            if lock.key != lock.primary { _ = try send(.resolve(startTS: lock.startTS, commitTS: commitTS, keys: [lock.key])) }
            return true
        case "rolled_back":
            if lock.key != lock.primary { _ = try send(.resolve(startTS: lock.startTS, commitTS: 0, keys: [lock.key])) }
            return true
        default:
            throw KVClientError(.badResponse, "unexpected answer to CHECK_TXN: \(words.joined(separator: " "))")
        }
    }

    static func lockInfo(in error: KVClientError) throws(KVClientError) -> LockInfo {
        // The message is the `ERR` line's "LOCKED key=... primary=..." part.
        let fields = error.message.split(separator: " ", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        do {
            return try LockInfo(message: fields)
        } catch {
            throw KVClientError(.badResponse, "a LOCKED answer without a readable lock: \(fields)")
        }
    }

    /// Commits the secondaries in the background, or here when there is no background committer.
    func commitSecondaries(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]]) {
        guard !keys.isEmpty else { return }
        if let secondaries {
            secondaries.enqueue(startTS: startTS, commitTS: commitTS, keys: keys)
        } else {
            SecondaryCommitter.commit(startTS: startTS, commitTS: commitTS, keys: keys, over: transport)
        }
    }
}

/// Commits secondary keys on a thread of its own, over its own connections. Failures are left to readers,
/// which roll the locks forward once they see the primary committed.
final class SecondaryCommitter: @unchecked Sendable {
    // `transport` is only touched on `queue`; the rest is immutable.
    private let queue = DispatchQueue(label: "kvstore.txn.secondaries")
    private let makeTransport: @Sendable () throws(KVClientError) -> any TxnTransport
    private var transport: (any TxnTransport)?

    init(_ makeTransport: @escaping @Sendable () throws(KVClientError) -> any TxnTransport) {
        self.makeTransport = makeTransport
    }

    func enqueue(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]]) {
        queue.async { [self] in
            for _ in 0..<3 {
                do {
                    let transport = try self.transport ?? makeTransport()
                    self.transport = transport
                    if Self.commit(startTS: startTS, commitTS: commitTS, keys: keys, over: transport) { return }
                } catch {
                    self.transport = nil
                }
                usleep(50_000)
            }
        }
    }

    func drain() {
        queue.sync {}
    }

    /// Commits `keys` region by region; true when every group answered OK.
    @discardableResult
    static func commit(startTS: UInt64, commitTS: UInt64, keys: [[UInt8]], over transport: any TxnTransport) -> Bool {
        guard let groups = try? transport.groupByRegion(keys) else { return false }
        var allDone = true
        for group in groups {
            do {
                _ = try transport.send(.commit(startTS: startTS, commitTS: commitTS, keys: group))
            } catch {
                allDone = false
            }
        }
        return allDone
    }
}
