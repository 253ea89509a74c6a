import CLMDB
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One LMDB environment in a data directory, holding every ``ColumnFamily``.
///
/// Reads run in ``read(_:)`` from a consistent snapshot and may run on any thread at once. Writes run in
/// ``write(_:)`` one at a time, and each commits atomically and durably (one `fsync`), so callers should
/// batch many changes into one write: that is group commit, and it is worth two orders of magnitude.
///
/// ```swift
/// let env = try Environment(path: "/var/lib/kv")
/// try env.write { txn in try txn.put(Array("v".utf8), for: Array("k".utf8)) }
/// let value = try env.read { txn in try txn.get(Array("k".utf8)) }
/// ```
///
/// A process opening a directory for writing holds an exclusive lock on `DIR/LOCK` until it closes the
/// environment, so a second writer gets ``EngineError/directoryLocked`` instead of sharing the files.
public final class Environment {
    /// The data directory.
    public let path: String
    /// The options it was opened with.
    public let options: EnvironmentOptions
    /// The longest key LMDB accepts in this build (511 bytes in Debian's); longer keys get ``EngineError/keyTooLarge``.
    public let maxKeySize: Int

    private let env: OpaquePointer
    private let databases: [MDB_dbi?]
    private let lockFileDescriptor: Int32
    /// Held shared by every open transaction, exclusively while the map is resized (see ``ReadWriteLock``).
    private let resizeLock = ReadWriteLock()
    /// Serialises writers, so that a resize never races another write transaction of this process.
    private let writerLock = ReadWriteLock()
    private let state: Mutex<(closed: Bool, mapSize: Int)>

    /// Opens (and for writing, creates) the environment in `path`.
    ///
    /// - Parameters:
    ///   - path: The data directory. It holds `data.mdb`, `lock.mdb` and the writer's `LOCK`.
    ///   - options: Map size, read-only mode, durability.
    /// - Throws: ``EngineError/directoryMissing`` when the directory does not exist (and is not created);
    ///   ``EngineError/directoryLocked`` when another process writes to it; ``EngineError/notAnEnvironment`` when
    ///   it holds no LMDB data file or a damaged one; ``EngineError/Code/truncated`` when `data.mdb` is shorter
    ///   than its meta page says (the message names both sizes); ``EngineError/columnFamilyMissing`` never (a read-only
    ///   open tolerates missing families and reports them on use); other LMDB or `errno` failures as
    ///   ``EngineError/Code/lmdb(_:)``.
    public init(path: String, options: EnvironmentOptions = EnvironmentOptions()) throws {
        var info = stat()
        if stat(path, &info) != 0 {
            if options.readOnly || !options.createIfMissing {
                throw EngineError(.directoryMissing, "data directory \(path) does not exist")
            }
            try Self.makeDirectories(path)
        } else if (info.st_mode & S_IFMT) != S_IFDIR {
            throw EngineError(.notAnEnvironment, "\(path) is not a directory")
        }
        if options.readOnly && stat(path + "/data.mdb", &info) != 0 {
            throw EngineError(.notAnEnvironment, "\(path) is not a data directory: it has no data.mdb")
        }

        let lockFileDescriptor: Int32 = options.readOnly ? -1 : try Self.lockDirectory(path)
        var handle: OpaquePointer?
        var rc = mdb_env_create(&handle)
        guard rc == 0, let env = handle else {
            if lockFileDescriptor >= 0 { closeFileDescriptor(lockFileDescriptor) }
            throw EngineError.lmdb(rc, "mdb_env_create")
        }
        var databases: [MDB_dbi?] = []
        do {
            try Self.check(mdb_env_set_maxdbs(env, MDB_dbi(ColumnFamily.allCases.count + 4)), "mdb_env_set_maxdbs")
            try Self.check(mdb_env_set_maxreaders(env, options.maxReaders), "mdb_env_set_maxreaders")
            if !options.readOnly {
                try Self.check(mdb_env_set_mapsize(env, options.mapSize), "mdb_env_set_mapsize")
            }
            var flags = UInt32(MDB_NOTLS)
            if options.readOnly { flags |= UInt32(MDB_RDONLY) }
            if !options.syncOnCommit { flags |= UInt32(MDB_NOSYNC) }
            rc = mdb_env_open(env, path, flags, 0o644)
            if rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH {
                throw EngineError(.notAnEnvironment, "\(path) holds no valid LMDB data file (\(String(cString: mdb_strerror(rc))))")
            }
            try Self.check(rc, "mdb_env_open \(path)")
            // Before any page beyond the meta pages is touched: LMDB maps the file, so reading a page past its
            // end would be a SIGBUS, not an error.
            try Self.checkFileLength(env, path: path)
            databases = try Self.openDatabases(env, readOnly: options.readOnly)
        } catch {
            mdb_env_close(env)
            if lockFileDescriptor >= 0 { closeFileDescriptor(lockFileDescriptor) }
            throw error
        }
        var envInfo = MDB_envinfo()
        mdb_env_info(env, &envInfo)

        self.path = path
        self.options = options
        self.env = env
        self.databases = databases
        self.lockFileDescriptor = lockFileDescriptor
        self.maxKeySize = Int(mdb_env_get_maxkeysize(env))
        self.state = Mutex((closed: false, mapSize: envInfo.me_mapsize))
    }

    deinit {
        close()
    }

    /// Closes the environment and releases the directory lock. Idempotent.
    ///
    /// No transaction may be running; the closure-based API guarantees that unless another thread is inside
    /// ``read(_:)`` or ``write(_:)``, which is a caller bug.
    public func close() {
        let wasOpen = resizeLock.withExclusiveLock {
            state.withLock { state in
                defer { state.closed = true }
                return !state.closed
            }
        }
        guard wasOpen else { return }
        mdb_env_close(env)
        if lockFileDescriptor >= 0 {
            closeFileDescriptor(lockFileDescriptor)
        }
    }

    /// Runs `body` in a read transaction: a snapshot of the last commit, unaffected by later writes.
    ///
    /// Many reads may run at once on any threads. Bytes that LMDB hands out inside are valid only there.
    /// Do not call ``write(_:)`` from inside `body`: a resize would wait for this read forever.
    ///
    /// - Parameter body: The work; its return value is returned.
    /// - Returns: What `body` returns.
    /// - Throws: ``EngineError/closed``, LMDB failures to begin the transaction (`MDB_READERS_FULL` when more
    ///   than ``EnvironmentOptions/maxReaders`` reads are open), and whatever `body` throws.
    public func read<T>(_ body: (Transaction) throws -> T) throws -> T {
        while true {
            let outcome: ReadOutcome<T> = try resizeLock.withSharedLock {
                guard !isClosed else { throw EngineError.closed }
                var txn: OpaquePointer?
                let rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
                if rc == MDB_MAP_RESIZED { return .mapResized }
                try Self.check(rc, "mdb_txn_begin (read)")
                defer { mdb_txn_abort(txn) }
                return .done(try body(Transaction(handle: txn!, databases: databases, maxKeySize: maxKeySize, writable: false)))
            }
            switch outcome {
            case .done(let value): return value
            case .mapResized: try adoptMapSizeOfOtherProcess()
            }
        }
    }

    /// Runs `body` in the write transaction and commits it durably (unless ``EnvironmentOptions/syncOnCommit``
    /// is off). If `body` throws, nothing it did is kept.
    ///
    /// Writers take turns. When LMDB reports the map full, the transaction is aborted, the map doubles and
    /// `body` runs again from the start: `body` must have no effects outside the transaction except its result.
    ///
    /// - Parameter body: The changes.
    /// - Returns: What `body` returns, after the commit.
    /// - Throws: ``EngineError/readOnly``, ``EngineError/closed``, ``EngineError/mapFull`` when the map may not
    ///   grow further, ``EngineError/keyTooLarge`` and the like from `body`, and LMDB or I/O failures of the
    ///   commit (then nothing was written).
    public func write<T>(_ body: (Transaction) throws -> T) throws -> T {
        guard !options.readOnly else { throw EngineError(.readOnly, "\(path) was opened read-only") }
        return try writerLock.withExclusiveLock {
            while true {
                let outcome: WriteOutcome<T> = try resizeLock.withSharedLock {
                    guard !isClosed else { throw EngineError.closed }
                    var txn: OpaquePointer?
                    let rc = mdb_txn_begin(env, nil, 0, &txn)
                    if rc == MDB_MAP_RESIZED { return .mapResized }
                    try Self.check(rc, "mdb_txn_begin (write)")
                    let value: T
                    do {
                        value = try body(Transaction(handle: txn!, databases: databases, maxKeySize: maxKeySize, writable: true))
                    } catch let error as EngineError where error.code == .mapFull {
                        mdb_txn_abort(txn)
                        return .mapFull
                    } catch {
                        mdb_txn_abort(txn)
                        throw error
                    }
                    let commit = mdb_txn_commit(txn)  // frees the transaction whether or not it succeeds
                    if commit == MDB_MAP_FULL { return .mapFull }
                    try Self.check(commit, "mdb_txn_commit")
                    return .done(value)
                }
                switch outcome {
                case .done(let value): return value
                case .mapResized: try adoptMapSizeOfOtherProcess()
                case .mapFull: try growMap()
                }
            }
        }
    }

    /// Applies every operation of `batch` in one atomic, durable transaction.
    ///
    /// - Parameter batch: The operations, applied in order.
    /// - Throws: As ``write(_:)``; on failure none of the batch is applied.
    public func apply(_ batch: WriteBatch) throws {
        guard !batch.isEmpty else { return }
        try write { txn in try batch.apply(to: txn) }
    }

    /// The B-tree statistics of a column family.
    ///
    /// - Throws: ``EngineError/columnFamilyMissing`` for a family absent from a read-only environment.
    public func statistics(of columnFamily: ColumnFamily) throws -> ColumnFamilyStatistics {
        try read { txn in try txn.statistics(of: columnFamily) }
    }

    /// Map size, last page and reader counts.
    public func info() throws -> EnvironmentInfo {
        try resizeLock.withSharedLock {
            guard !isClosed else { throw EngineError.closed }
            var info = MDB_envinfo()
            try Self.check(mdb_env_info(env, &info), "mdb_env_info")
            return EnvironmentInfo(
                mapSize: info.me_mapsize, lastPage: info.me_last_pgno, lastTransaction: info.me_last_txnid,
                maxReaders: Int(info.me_maxreaders), readers: Int(info.me_numreaders))
        }
    }

    /// Whether a column family exists (always true unless opened read-only on a foreign environment).
    public func hasColumnFamily(_ columnFamily: ColumnFamily) -> Bool {
        databases[columnFamily.index] != nil
    }

    /// The current size of the map in bytes.
    public var mapSize: Int { state.withLock { $0.mapSize } }

    private var isClosed: Bool { state.withLock { $0.closed } }

    // MARK: - Map size

    /// Doubles the map. Called with the writer lock held and no transaction of this thread open.
    private func growMap() throws {
        try resizeLock.withExclusiveLock {
            let current = state.withLock { $0.mapSize }
            guard current < options.maxMapSize else {
                throw EngineError(.mapFull, "the database is full: it reached its maximum size of \(current) bytes")
            }
            let next = min(current * 2, options.maxMapSize)
            try Self.check(mdb_env_set_mapsize(env, next), "mdb_env_set_mapsize")
            state.withLock { $0.mapSize = next }
        }
    }

    /// Another process grew the map: take over its size (`mdb_env_set_mapsize(0)` reads it from the file).
    private func adoptMapSizeOfOtherProcess() throws {
        try resizeLock.withExclusiveLock {
            try Self.check(mdb_env_set_mapsize(env, 0), "mdb_env_set_mapsize")
            var info = MDB_envinfo()
            mdb_env_info(env, &info)
            state.withLock { $0.mapSize = info.me_mapsize }
        }
    }

    // MARK: - Opening

    private static func check(_ rc: Int32, _ call: @autoclosure () -> String) throws {
        if rc != 0 { throw EngineError.lmdb(rc, call()) }
    }

    /// Refuses a data file shorter than its newest meta page says, `(last page + 1) * page size` bytes, by
    /// more than ``truncationSlackPages`` pages.
    ///
    /// A file cut short (a bad copy, a disk that acknowledged writes it never made) would open fine and then
    /// kill the process with SIGBUS on the first read of a missing page. But LMDB itself leaves a few pages
    /// at the end unwritten when a transaction allocated them and freed them again before committing (they
    /// go to the free list, and are written before they are ever read): a node killed after such a commit
    /// left a file one page short of its last page, valid, which a strict check refused to start.
    private static func checkFileLength(_ env: OpaquePointer, path: String) throws {
        var envInfo = MDB_envinfo()
        var envStat = MDB_stat()
        try check(mdb_env_info(env, &envInfo), "mdb_env_info")
        try check(mdb_env_stat(env, &envStat), "mdb_env_stat")
        let expected = (Int(envInfo.me_last_pgno) + 1) * Int(envStat.ms_psize)
        let file = path + "/data.mdb"
        var info = stat()
        guard stat(file, &info) == 0 else {
            throw EngineError(.lmdb(errno), "cannot stat \(file): \(String(cString: strerror(errno)))")
        }
        if Int(info.st_size) < expected - truncationSlackPages * Int(envStat.ms_psize) {
            throw EngineError(
                .truncated,
                "\(file) is truncated: its meta page says the data reaches \(expected) bytes (page \(envInfo.me_last_pgno) "
                    + "of \(envStat.ms_psize) bytes) but the file has \(info.st_size) bytes; restore it from a copy")
        }
    }

    /// How many pages a data file may fall short of its last page (see `checkFileLength`): LMDB's loose
    /// pages at the end of a commit are a handful at most (about a tree's depth); a bad copy loses far more.
    static let truncationSlackPages = 16

    private static func makeDirectories(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
                throw EngineError(.lmdb(errno), "cannot create data directory \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Takes `DIR/LOCK` with `flock`, writing our pid into it so the error can name the holder.
    private static func lockDirectory(_ path: String) throws -> Int32 {
        let lockPath = path + "/LOCK"
        let fd = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EngineError(.lmdb(errno), "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            var buffer = [UInt8](repeating: 0, count: 32)
            let count = pread(fd, &buffer, buffer.count, 0)
            let holder = count > 0 ? String(decoding: buffer[..<count], as: UTF8.self).trimmingNewlines : "unknown"
            closeFileDescriptor(fd)
            throw EngineError(
                .directoryLocked, "data directory \(path) is in use by another process (pid \(holder))")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        return fd
    }

    private static func openDatabases(_ env: OpaquePointer, readOnly: Bool) throws -> [MDB_dbi?] {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "mdb_txn_begin")
        var databases: [MDB_dbi?] = []
        for family in ColumnFamily.allCases {
            var dbi: MDB_dbi = 0
            let rc = mdb_dbi_open(txn, family.rawValue, readOnly ? 0 : UInt32(MDB_CREATE), &dbi)
            if rc == MDB_NOTFOUND && readOnly {
                databases.append(nil)
                continue
            }
            if rc != 0 {
                mdb_txn_abort(txn)
                if rc == MDB_INCOMPATIBLE {
                    throw EngineError(.notAnEnvironment, "column family \(family.rawValue) is not a database here")
                }
                throw EngineError.lmdb(rc, "mdb_dbi_open \(family.rawValue)")
            }
            databases.append(dbi)
        }
        // Handles opened in a transaction survive only if it commits (even a read-only one).
        try check(mdb_txn_commit(txn), "mdb_txn_commit")
        return databases
    }
}

// MARK: - Sendable

// LMDB environments are thread-safe with MDB_NOTLS; the Swift-side state is behind Mutex and ReadWriteLock.
extension Environment: @unchecked Sendable {}

private enum ReadOutcome<T> {
    case done(T)
    case mapResized
}

private enum WriteOutcome<T> {
    case done(T)
    case mapResized
    case mapFull
}

/// `close(2)`, reachable from inside ``Environment`` whose own `close()` hides the global one.
private func closeFileDescriptor(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

extension String {
    fileprivate var trimmingNewlines: String {
        var text = self
        while let last = text.last, last == "\n" || last == "\0" { text.removeLast() }
        return text
    }
}
