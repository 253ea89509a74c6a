import Foundation
import KVEngine
import KVTestSupport
import Testing


@Suite("LMDB environment", .timeLimit(.minutes(2)))
struct EnvironmentTests {
    @Test("put, get and delete in every column family; data survives reopening")
    func basicsAndPersistence() throws {
        let directory = TemporaryDirectory()
        do {
            let environment = try Environment(path: directory.file("data"))
            try environment.write { txn in
                for family in ColumnFamily.allCases {
                    try txn.put(bytes("value-\(family.rawValue)"), for: bytes("key"), in: family)
                }
                try txn.put([], for: bytes("empty-value"))
            }
            try environment.read { txn throws in
                for family in ColumnFamily.allCases {
                    #expect(try txn.get(bytes("key"), in: family) == bytes("value-\(family.rawValue)"))
                }
                #expect(try txn.get(bytes("empty-value")) == [])
                #expect(try txn.get(bytes("missing")) == nil)
            }
            #expect(try environment.write { txn in try txn.delete(bytes("key"), in: .lock) } == true)
            #expect(try environment.write { txn in try txn.delete(bytes("key"), in: .lock) } == false)
            environment.close()
        }
        let reopened = try Environment(path: directory.file("data"))
        try reopened.read { txn throws in
            #expect(try txn.get(bytes("key"), in: .lock) == nil)
            #expect(try txn.get(bytes("key"), in: .raft) == bytes("value-raft"))
        }
    }

    @Test("a batch applies atomically: a failing operation leaves nothing behind")
    func batchAtomicity() throws {
        let directory = TemporaryDirectory()
        let environment = try Environment(path: directory.path)
        var good = WriteBatch()
        good.put(bytes("v1"), for: bytes("a"))
        good.put(bytes("l1"), for: bytes("a"), in: .lock)
        good.put(bytes("w1"), for: bytes("a"), in: .write)
        try environment.apply(good)

        var bad = WriteBatch()
        bad.put(bytes("v2"), for: bytes("a"))
        bad.delete(bytes("a"), in: .lock)
        bad.put(bytes("x"), for: [UInt8](repeating: 1, count: environment.maxKeySize + 1), in: .write)
        #expect(throws: EngineError.keyTooLarge) { try environment.apply(bad) }
        try environment.read { txn throws in
            #expect(try txn.get(bytes("a")) == bytes("v1"))
            #expect(try txn.get(bytes("a"), in: .lock) == bytes("l1"))
            #expect(try txn.get(bytes("a"), in: .write) == bytes("w1"))
        }
    }

    @Test("key limits: empty and over-long keys get clear errors")
    func keyLimits() throws {
        let directory = TemporaryDirectory()
        let environment = try Environment(path: directory.path)
        #expect(environment.maxKeySize == 511)
        #expect(throws: EngineError.emptyKey) { try environment.write { txn in try txn.put([1], for: []) } }
        #expect(throws: EngineError.keyTooLarge) {
            try environment.write { txn in try txn.put([1], for: [UInt8](repeating: 7, count: 512)) }
        }
        try environment.write { txn in try txn.put([1], for: [UInt8](repeating: 7, count: 511)) }
        #expect(try environment.read { txn in try txn.get([UInt8](repeating: 7, count: 512)) } == nil)
    }

    @Test("a read snapshot does not see a write committed while it is open")
    func snapshotIsolation() throws {
        let directory = TemporaryDirectory()
        let environment = try Environment(path: directory.path)
        try environment.write { txn in try txn.put(bytes("old"), for: bytes("k")) }
        let readerInside = DispatchSemaphore(value: 0)
        let writerDone = DispatchSemaphore(value: 0)
        let thread = Thread {
            readerInside.wait()
            try? environment.write { txn in
                try txn.put(bytes("new"), for: bytes("k"))
                try txn.put(bytes("new"), for: bytes("k2"))
            }
            writerDone.signal()
        }
        thread.start()
        try environment.read { txn throws in
            #expect(try txn.get(bytes("k")) == bytes("old"))
            readerInside.signal()
            writerDone.wait()
            #expect(try txn.get(bytes("k")) == bytes("old"))
            #expect(try txn.get(bytes("k2")) == nil)
        }
        #expect(try environment.read { txn in try txn.get(bytes("k")) } == bytes("new"))
    }

    @Test("a second writer of the same directory is refused until the first closes")
    func directoryLock() throws {
        let directory = TemporaryDirectory()
        let first = try Environment(path: directory.path)
        #expect(throws: EngineError.directoryLocked) { try Environment(path: directory.path) }
        var readOnly = EnvironmentOptions()
        readOnly.readOnly = true
        let reader = try Environment(path: directory.path, options: readOnly)
        #expect(throws: EngineError.readOnly) { try reader.write { txn in try txn.put([1], for: [1]) } }
        reader.close()
        first.close()
        _ = try Environment(path: directory.path)
    }

    @Test("missing, empty and corrupt directories give clear errors when opened read-only")
    func badDirectories() throws {
        let directory = TemporaryDirectory()
        var readOnly = EnvironmentOptions()
        readOnly.readOnly = true
        #expect(throws: EngineError.directoryMissing) {
            try Environment(path: directory.file("nope"), options: readOnly)
        }
        #expect(throws: EngineError.notAnEnvironment) { try Environment(path: directory.path, options: readOnly) }
        _ = FileManager.default.createFile(
            atPath: directory.file("data.mdb"), contents: Data(repeating: 0x42, count: 64 * 1024))
        #expect(throws: EngineError.notAnEnvironment) { try Environment(path: directory.path, options: readOnly) }
        #expect(throws: EngineError.notAnEnvironment) { try Environment(path: directory.path) }
        _ = FileManager.default.createFile(atPath: directory.file("plain-file"), contents: Data())
        #expect(throws: EngineError.notAnEnvironment) { try Environment(path: directory.file("plain-file")) }
    }

    @Test("a data.mdb cut short is refused at open, naming the file and both sizes, instead of a SIGBUS later")
    func truncatedDataFile() throws {
        let directory = TemporaryDirectory()
        let path = directory.file("data")
        do {
            let environment = try Environment(path: path)
            try environment.write { txn in
                for i in 0..<50_000 { try txn.put(bytes("value-\(i)-" + String(repeating: "v", count: 40)), for: bytes("key-\(i)")) }
            }
            environment.close()
        }
        let file = path + "/data.mdb"
        #expect(truncate(file, 1 << 20) == 0)
        var readOnly = EnvironmentOptions()
        readOnly.readOnly = true
        for options in [EnvironmentOptions(), readOnly] {
            do {
                _ = try Environment(path: path, options: options)
                Issue.record("a truncated data.mdb was opened")
            } catch let error as EngineError {
                #expect(error.code == .truncated)
                #expect(error.message.contains(file))
                #expect(error.message.contains("1048576 bytes"))
            }
        }
    }

    @Test("a full map grows instead of failing, while readers keep reading")
    func mapGrowth() throws {
        let directory = TemporaryDirectory()
        var options = EnvironmentOptions()
        options.mapSize = 1 << 20
        let environment = try Environment(path: directory.path, options: options)
        try environment.write { txn in try txn.put(bytes("anchor"), for: bytes("anchor")) }
        let stop = ManagedAtomicFlag()
        let readers = (0..<2).map { _ in
            Thread {
                while !stop.isSet {
                    let value = try? environment.read { txn in try txn.get(bytes("anchor")) }
                    precondition(value == bytes("anchor"))
                }
            }
        }
        readers.forEach { $0.start() }
        let value = [UInt8](repeating: 0xAB, count: 4096)
        for batch in 0..<40 {
            try environment.write { txn in
                for i in 0..<128 { try txn.put(value, for: bytes("key-\(batch)-\(i)")) }
            }
        }
        stop.set()
        #expect(environment.mapSize > 1 << 20)
        #expect(try environment.statistics(of: .default).entries == 40 * 128 + 1)
    }

    @Test("a map that may not grow further reports mapFull")
    func mapLimit() throws {
        let directory = TemporaryDirectory()
        var options = EnvironmentOptions()
        options.mapSize = 1 << 20
        options.maxMapSize = 2 << 20
        let environment = try Environment(path: directory.path, options: options)
        let value = [UInt8](repeating: 1, count: 64 * 1024)
        #expect(throws: EngineError.mapFull) {
            try environment.write { txn in
                for i in 0..<100 { try txn.put(value, for: bytes("k\(i)")) }
            }
        }
        // Nothing of the failed transaction is kept, and the environment still works.
        #expect(try environment.statistics(of: .default).entries == 0)
        try environment.write { txn in try txn.put([1], for: [1]) }
    }
}

/// A flag set by one thread and read by others.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
