import Foundation
import LogEngine

/// An in-memory ``LogFileSystem`` that can lose power: writes nobody synced, and directory changes nobody
/// synced, are partly or wholly gone after ``crash(_:random:)``, as on a real disk with a volatile cache.
///
/// Model: each file has durable bytes (as of its last `sync`) and the writes made since, in order. The
/// directory has the names as they are and as of its last directory sync. A crash picks, per file, which of
/// the unsynced writes reached the platter (by ``CrashMode``), and per unsynced create or remove whether it
/// stuck. Handles opened before a crash fail with `EIO` afterwards.
public final class SimulatedFileSystem: LogFileSystem {
    /// Which unsynced writes survive a crash.
    public enum CrashMode: Sendable, CaseIterable {
        /// None: every file reverts to its last sync.
        case dropUnsynced
        /// A random prefix of each file's unsynced writes, the last one possibly cut short.
        case keepRandomPrefix
        /// All unsynced writes but the last, which is cut short (a torn write).
        case tearLastWrite
        /// Each 512-byte sector of the unsynced writes independently (the disk wrote them out of order).
        case randomSectors
    }

    private final class File {
        var durable: [UInt8] = []
        var current: [UInt8] = []
        var unsynced: [(offset: Int, bytes: [UInt8])] = []
    }

    private struct State {
        var names: [String: File] = [:]
        var durableNames: [String: File] = [:]
        var directories: Set<String> = []
        var generation = 0
        var failSyncsAfter: Int?
    }

    private let lock = NSLock()
    private var storage = State()

    /// Runs `body` on the state under the lock.
    private func withState<T>(_ body: (inout State) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&storage)
    }

    /// An empty file system.
    public init() {}

    /// Simulates a power failure: unsynced data is partly lost according to `mode`, and open files stop
    /// working.
    ///
    /// - Parameters:
    ///   - mode: Which unsynced writes survive.
    ///   - random: Chooses the cut points.
    public func crash(_ mode: CrashMode, random: inout some RandomNumberGenerator) {
        withState { state in
            var names: [String: File] = [:]
            for path in Set(state.names.keys).union(state.durableNames.keys) {
                switch (state.names[path], state.durableNames[path]) {
                case (let now?, let then?) where now === then: names[path] = now
                case (let now?, let then?): names[path] = Bool.random(using: &random) ? now : then  // replaced, not synced
                case (let now?, nil): if Bool.random(using: &random) { names[path] = now }  // create not synced
                case (nil, let then?): if Bool.random(using: &random) { names[path] = then }  // remove not synced
                default: break
                }
            }
            var seen = Set<ObjectIdentifier>()
            for file in names.values where seen.insert(ObjectIdentifier(file)).inserted {
                Self.settle(file, mode, &random)
            }
            for file in state.names.values where seen.insert(ObjectIdentifier(file)).inserted {
                Self.settle(file, .dropUnsynced, &random)
            }
            state.names = names
            state.durableNames = names
            state.generation += 1
        }
    }

    /// Makes every file or directory sync after the next `count` ones fail with `EIO` (nil: never).
    public func failSyncs(after count: Int?) {
        withState { $0.failSyncsAfter = count }
    }

    /// The bytes of a file as they are now (nil if absent).
    public func contents(of path: String) -> [UInt8]? {
        withState { $0.names[path]?.current }
    }

    /// Replaces bytes of a file, durably (to plant damage for tests).
    public func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) {
        withState { state in
            guard let file = state.names[path] else { return }
            Self.apply(bytes, at: offset, to: &file.current)
            file.durable = file.current
            file.unsynced = []
        }
    }

    /// The paths of all files, sorted.
    public var paths: [String] { withState { $0.names.keys.sorted() } }

    private static func settle(_ file: File, _ mode: CrashMode, _ random: inout some RandomNumberGenerator) {
        var bytes = file.durable
        let writes = file.unsynced
        switch mode {
        case .dropUnsynced:
            break
        case .keepRandomPrefix:
            let kept = Int.random(in: 0...writes.count, using: &random)
            for write in writes.prefix(kept) { apply(write.bytes, at: write.offset, to: &bytes) }
            if kept < writes.count && Bool.random(using: &random) {
                let write = writes[kept]
                apply(Array(write.bytes.prefix(Int.random(in: 0..<max(1, write.bytes.count), using: &random))),
                      at: write.offset, to: &bytes)
            }
        case .tearLastWrite:
            for write in writes.dropLast() { apply(write.bytes, at: write.offset, to: &bytes) }
            if let last = writes.last {
                apply(Array(last.bytes.prefix(Int.random(in: 0..<max(1, last.bytes.count), using: &random))),
                      at: last.offset, to: &bytes)
            }
        case .randomSectors:
            for write in writes {
                var start = write.offset
                while start < write.offset + write.bytes.count {
                    let end = min((start / 512 + 1) * 512, write.offset + write.bytes.count)
                    if Bool.random(using: &random) {
                        apply(Array(write.bytes[(start - write.offset)..<(end - write.offset)]), at: start, to: &bytes)
                    }
                    start = end
                }
            }
        }
        file.durable = bytes
        file.current = bytes
        file.unsynced = []
    }

    private static func apply(_ bytes: [UInt8], at offset: Int, to target: inout [UInt8]) {
        if target.count < offset + bytes.count {
            target.append(contentsOf: [UInt8](repeating: 0, count: offset + bytes.count - target.count))
        }
        target.replaceSubrange(offset..<(offset + bytes.count), with: bytes)
    }

    /// Counts a file or directory sync against ``failSyncs(after:)``.
    private static func countSync(_ state: inout State, _ path: String) throws {
        guard let left = state.failSyncsAfter else { return }
        if left <= 0 { throw ioError(5, "cannot sync \(path): input/output error (simulated)") }
        state.failSyncsAfter = left - 1
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return String(path[..<slash])
    }

    private static func ioError(_ code: Int32, _ what: String) -> LogEngineError {
        LogEngineError(.io(code), what)
    }

    // MARK: - LogFileSystem

    public func listDirectory(_ path: String) throws -> [String] {
        try withState { state in
            guard state.directories.contains(path) else { throw Self.ioError(2, "cannot list \(path): no such directory") }
            return state.names.keys.filter { Self.parent(of: $0) == path }.map { String($0.dropFirst(path.count + 1)) }
        }
    }

    public func isDirectory(_ path: String) -> Bool {
        withState { $0.directories.contains(path) }
    }

    public func makeDirectory(_ path: String) throws {
        _ = withState { $0.directories.insert(path) }
    }

    public func openFile(_ path: String, mode: LogFileMode) throws -> any LogFile {
        try withState { state in
            switch mode {
            case .create:
                guard state.names[path] == nil else { throw Self.ioError(17, "cannot create \(path): it exists") }
                state.names[path] = File()
            case .readOnly, .readWrite:
                guard state.names[path] != nil else { throw Self.ioError(2, "cannot open \(path): no such file") }
            }
            return SimulatedFile(path: path, file: state.names[path]!, owner: self, generation: state.generation)
        }
    }

    public func removeFile(_ path: String) throws {
        try withState { state in
            guard state.names.removeValue(forKey: path) != nil else { throw Self.ioError(2, "cannot remove \(path)") }
        }
    }

    public func syncDirectory(_ path: String) throws {
        try withState { state in
            try Self.countSync(&state, path)
            state.durableNames = state.durableNames.filter { Self.parent(of: $0.key) != path }
            for (name, file) in state.names where Self.parent(of: name) == path { state.durableNames[name] = file }
        }
    }

    // MARK: - Files

    private final class SimulatedFile: LogFile {
        let path: String
        private let file: File
        private let owner: SimulatedFileSystem
        private let generation: Int

        init(path: String, file: File, owner: SimulatedFileSystem, generation: Int) {
            self.path = path
            self.file = file
            self.owner = owner
            self.generation = generation
        }

        private func live<T>(_ body: (inout State) throws -> T) throws -> T {
            try owner.withState { state in
                guard state.generation == generation else { throw ioError(5, "\(path): the machine crashed") }
                return try body(&state)
            }
        }

        func size() throws -> Int {
            try live { _ in file.current.count }
        }

        func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            try live { _ in
                let end = min(file.current.count, offset + buffer.count)
                guard end > offset else { return 0 }
                file.current.withUnsafeBytes { source in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<end]))
                }
                return end - offset
            }
        }

        func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
            try live { _ in
                let copy = Array(bytes)
                SimulatedFileSystem.apply(copy, at: offset, to: &file.current)
                file.unsynced.append((offset, copy))
            }
        }

        func sync() throws {
            try live { state in
                try SimulatedFileSystem.countSync(&state, path)
                file.durable = file.current
                file.unsynced = []
            }
        }

        func close() {}
    }
}

// MARK: - Sendable

// Every piece of state sits behind the `state` mutex; File objects are touched only while holding it.
extension SimulatedFileSystem: @unchecked Sendable {}
