import KVEngine
import LogEngine
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
    private let replayed: ChangeLayer

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
            let meta = try environment.read { try StoreMeta(reading: $0) }
            var changes: [[UInt8]: [UInt8]?] = [:]
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
                        case .put(let key, let value): changes[key] = .some(value)
                        case .delete(let key): changes.updateValue(nil, forKey: key)
                        }
                    }
                }
            }
            self.meta = meta
            self.unflushedEntries = unflushed
            self.replayed = ChangeLayer(changes: changes)
        } catch {
            environment.close()
            log?.close()
            throw error
        }
        self.environment = environment
        self.log = log
    }

    /// Runs `body` with a reader of the state: the replayed entries over an LMDB snapshot.
    ///
    /// - Throws: What `body` throws; engine failures.
    public func read<T>(_ body: (AppliedStateReader) throws -> T) throws -> T {
        let layers = replayed.count > 0 ? [replayed] : []
        return try environment.read { txn in try body(AppliedStateReader(layers: layers, txn: txn)) }
    }

    /// Closes LMDB and the log. Idempotent.
    public func close() {
        log?.close()
        environment.close()
    }
}
