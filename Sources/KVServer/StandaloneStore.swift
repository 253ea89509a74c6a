import KVEngine
import KVProtocol
import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The data of a standalone node (one region, no Raft) with group commit.
///
/// Reads run on the caller's thread from an LMDB snapshot. Writes go through ``submit(_:)`` to one writer
/// thread, which takes everything queued since its last commit, applies it in one write transaction, commits
/// once (one `fsync`) and only then answers. While one commit waits for the disk, the next batch gathers, so
/// many connections share each `fsync`.
public final class StandaloneStore {
    /// The engine holding the data.
    public let environment: Environment
    /// Counters for `STATS`.
    public let statistics = StoreStatistics()
    /// What `HELLO` reports after `OK`.
    public let identity: [String]

    private let wakeUp = ConditionLock(value: false)
    /// Guarded by `wakeUp`.
    private var inbox: [WriteSubmission] = []
    /// Guarded by `wakeUp`.
    private var stopping = false
    private let writerThread: NIOThreadPool
    private let writerFinished = ConditionLock(value: false)
    private let startTime = monotonicSeconds()

    /// The most submissions one write transaction takes, to bound commit latency and LMDB's dirty pages.
    static let maxSubmissionsPerCommit = 4096

    /// Opens the store and starts its writer thread.
    ///
    /// - Parameters:
    ///   - environment: An environment opened for writing.
    ///   - identity: The words `HELLO` answers with.
    public init(environment: Environment, identity: [String]) {
        self.environment = environment
        self.identity = identity
        self.writerThread = NIOThreadPool(numberOfThreads: 1)
        writerThread.start()
        writerThread.submit { [self] _ in runWriter() }
    }

    /// Queues requests for the writer.
    ///
    /// - Parameter submission: Requests and the callback for their answers. After ``stop()`` the callback gets
    ///   `ERR SHUTTING_DOWN` answers at once.
    public func submit(_ submission: WriteSubmission) {
        wakeUp.lock()
        if stopping {
            wakeUp.unlock()
            submission.complete(submission.requests.map { _ in Self.shuttingDown })
            return
        }
        inbox.append(submission)
        wakeUp.unlock(withValue: true)
    }

    /// Answers read requests (and `PING`, `HELLO`, `STATS`) from one snapshot.
    ///
    /// - Parameter requests: Requests that change nothing.
    /// - Returns: One answer each.
    public func read(_ requests: [Request]) -> [Response] {
        do {
            return try environment.read { txn in requests.map { answer($0, in: txn) } }
        } catch {
            return requests.map { _ in Self.storageError(error) }
        }
    }

    /// Finishes the queued writes, answers them, and stops the writer. Idempotent; returns when the writer
    /// has stopped. The environment stays open (the owner closes it).
    public func stop() {
        wakeUp.lock()
        stopping = true
        wakeUp.unlock(withValue: true)
        writerFinished.lock(whenValue: true)
        writerFinished.unlock()
        try? writerThread.syncShutdownGracefully()
    }

    // MARK: - Writer

    private func runWriter() {
        while true {
            wakeUp.lock(whenValue: true)
            let count = min(inbox.count, Self.maxSubmissionsPerCommit)
            let batch = Array(inbox.prefix(count))
            inbox.removeFirst(count)
            let done = stopping && inbox.isEmpty && batch.isEmpty
            wakeUp.unlock(withValue: !inbox.isEmpty || stopping)
            if done { break }
            if !batch.isEmpty { commit(batch) }
        }
        writerFinished.lock()
        writerFinished.unlock(withValue: true)
    }

    /// Applies a batch in one transaction; if it fails, applies each submission alone so one bad request
    /// cannot fail other connections' writes.
    private func commit(_ batch: [WriteSubmission]) {
        do {
            let answers = try environment.write { txn in try batch.map { try $0.requests.map { try execute($0, in: txn) } } }
            record(batch)
            for (submission, responses) in zip(batch, answers) { submission.complete(responses) }
        } catch {
            guard batch.count > 1 else {
                batch[0].complete(batch[0].requests.map { _ in Self.storageError(error) })
                return
            }
            for submission in batch { commit([submission]) }
        }
    }

    private func record(_ batch: [WriteSubmission]) {
        statistics.commits.add(1, ordering: .relaxed)
        let writes = batch.reduce(0) { $0 + $1.requests.count(where: \.isWrite) }
        statistics.writes.add(writes, ordering: .relaxed)
    }

    // MARK: - Executing requests

    /// Runs one request in the write transaction. Only a full map throws (so the environment can grow it and
    /// run the transaction again); every other failure becomes this request's error answer.
    private func execute(_ request: Request, in txn: Transaction) throws -> Response {
        do {
            switch request {
            case .put(let key, let value):
                try txn.put(value, for: key)
                return .ok
            case .delete(let key):
                return .ok([try txn.delete(key) ? "1" : "0"])
            default:
                return answer(request, in: txn)
            }
        } catch let error as EngineError where error.code == .mapFull {
            throw error
        } catch {
            return Self.storageError(error)
        }
    }

    /// Answers a request that changes nothing, from the given transaction's view.
    private func answer(_ request: Request, in txn: Transaction) -> Response {
        do {
            switch request {
            case .ping:
                return .pong
            case .hello:
                return .ok(identity)
            case .get(let key):
                return try txn.get(key).map(Response.value) ?? .notFound
            case .scan(let scan):
                return try self.scan(scan, in: txn)
            case .stats:
                return try stats(in: txn)
            case .quit:
                return .ok(["bye"])
            case .put, .delete:
                return .error(ProtocolError(.internalError, "a write reached the read path"))
            }
        } catch {
            return Self.storageError(error)
        }
    }

    private func scan(_ scan: ScanRequest, in txn: Transaction) throws -> Response {
        let range = KeyRange(lower: scan.start.isEmpty ? nil : scan.start, upper: scan.end.isEmpty ? nil : scan.end)
        var rows: [ScanRow] = []
        var bytes = 0
        var more = false
        try txn.forEach(range: range, reverse: scan.reverse) { key, value in
            if rows.count == scan.limit || bytes >= ProtocolLimits.maxScanBytes {
                more = true
                return false
            }
            rows.append(ScanRow(key: Array(key), value: scan.keysOnly ? nil : Array(value)))
            bytes += key.count + (scan.keysOnly ? 0 : value.count)
            return true
        }
        return .rows(rows, more: more)
    }

    private func stats(in txn: Transaction) throws -> Response {
        let data = try txn.statistics(of: .default)
        return .ok([
            "keys=\(data.entries)",
            "bytes=\(data.bytes)",
            "requests=\(statistics.requests.load(ordering: .relaxed))",
            "writes=\(statistics.writes.load(ordering: .relaxed))",
            "commits=\(statistics.commits.load(ordering: .relaxed))",
            "connections=\(statistics.connections.load(ordering: .relaxed))",
            "map_size=\(environment.mapSize)",
            "uptime_s=\(Int(monotonicSeconds() - startTime))",
        ])
    }

    static let shuttingDown = Response.error(ProtocolError(.shuttingDown, "the node is shutting down"))

    static func storageError(_ error: any Error) -> Response {
        .error(ProtocolError(.storage, "\(error)"))
    }
}

// MARK: - Sendable

// The inbox and flags are guarded by `wakeUp`; the environment is thread-safe; the rest is immutable.
extension StandaloneStore: @unchecked Sendable {}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
