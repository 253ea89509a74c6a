import KVEngine
import KVProtocol
import LogEngine
import Txn
import Raft

/// A node's data directory as a restart would rebuild it — LMDB's applied state plus the committed log
/// entries it has not applied yet — read without changing anything, so it is safe beside a live node.
///
/// What `kvdump` shows: every acknowledged write, even one still only in the log.
///
/// ```swift
/// let state = try DurableState(directory: "/var/lib/kv")
/// defer { state.close() }
/// let value = try state.read { try $0.get(Array("user:1".utf8)) }
/// ```
public final class DurableState {
    /// The data directory.
    public let directory: String
    /// LMDB, opened read-only.
    public let environment: Environment
    /// The log, opened read-only (nil for a directory written before the log existed).
    public let log: LogEngine?
    /// Identity, regions and applied indexes as LMDB holds them.
    public let meta: StoreMeta
    /// Per region, the committed entries not yet applied to LMDB (the replay of a restart).
    public let unflushedEntries: [UInt64: ClosedRange<UInt64>]

    /// Opens a data directory read-only and replays its unapplied committed entries in memory.
    ///
    /// The log is read before LMDB: a live node only compacts its log up to what LMDB already holds, so
    /// whatever LMDB has applied by the time it is read, the log read earlier still holds the entries after it.
    ///
    /// - Parameter directory: The data directory.
    /// - Throws: ``KVEngine/EngineError`` (missing, not LMDB, truncated), ``LogEngine/LogEngineError`` (a damaged
    ///   log), ``RaftStoreError`` (meta values or entries that do not decode, or entries missing from the log).
    public init(directory: String) throws {
        self.directory = directory
        var logOptions = LogEngineOptions()
        logOptions.readOnly = true
        let logDirectory = directory + "/log"
        let log = PosixFileSystem().isDirectory(logDirectory)
            ? try LogEngine(directory: logDirectory, options: logOptions) : nil
        var options = EnvironmentOptions()
        options.readOnly = true
        let environment: Environment
        do {
            environment = try Environment(path: directory, options: options)
        } catch {
            log?.close()
            throw error
        }
        do {
            let (meta, unflushed, _) = try environment.read { txn in try Self.replay(txn: txn, log: log) }
            self.meta = meta
            self.unflushedEntries = unflushed
        } catch {
            environment.close()
            log?.close()
            throw error
        }
        self.environment = environment
        self.log = log
    }

    /// Reads the meta values in `txn` and replays, over it, the committed log entries it has not applied.
    ///
    /// Meta and data come from the same snapshot: the replayed entries are exactly those after the applied
    /// index that snapshot holds (none if the node has since applied beyond what the log showed us).
    private static func replay(txn: Transaction, log: LogEngine?) throws
        -> (StoreMeta, [UInt64: ClosedRange<UInt64>], ChangeLayer)
    {
        let meta = try StoreMeta(reading: txn)
        var changes: [ByteKey: [UInt8]?] = [:]
        var unflushed: [UInt64: ClosedRange<UInt64>] = [:]
        for region in meta.regions.keys.sorted() {
            guard let log, let commit = log.hardState(of: region)?.commit else { continue }
            let applied = meta.applied[region] ?? 0
            guard commit > applied else { continue }
            let entries: [Entry]
            do {
                entries = try log.entries(of: region, from: applied + 1, to: commit + 1)
            } catch {
                throw RaftStoreError(
                    .corrupt, "region \(region): entries \(applied + 1)...\(commit) are not all in the log: \(error)")
            }
            unflushed[region] = (applied + 1)...commit
            for entry in entries where entry.kind == .normal && !entry.data.isEmpty {
                for operation in try WriteCommand(decoding: entry.data).operations {
                    switch operation {
                    case .put(let key, let value): changes[ByteKey(key)] = .some(value)
                    case .delete(let key): changes.updateValue(nil, forKey: ByteKey(key))
                    case .txn(let request):
                        // Run again, as the node did at apply, over LMDB and what replayed before it.
                        let snapshot = AppliedStateReader(layers: [ChangeLayer(changes: changes)], txn: txn)
                        let range = meta.regions[region]
                        let outcome = try TxnExecutor(snapshot: snapshot, lower: range?.startKey ?? [], upper: range?.endKey ?? [])
                            .execute(request)
                        for change in outcome.changes { changes.updateValue(change.value, forKey: ByteKey(change.key)) }
                    }
                }
            }
        }
        return (meta, unflushed, ChangeLayer(changes: changes))
    }

    /// Runs `body` with a reader of the state: the replayed entries over an LMDB snapshot.
    ///
    /// - Throws: What `body` throws; engine failures.
    public func read<T>(_ body: (AppliedStateReader) throws -> T) throws -> T {
        try environment.read { txn in
            let (_, _, replayed) = try Self.replay(txn: txn, log: log)
            return try body(AppliedStateReader(layers: replayed.count > 0 ? [replayed] : [], txn: txn))
        }
    }

    /// Closes LMDB and the log. Idempotent.
    public func close() {
        log?.close()
        environment.close()
    }
}
