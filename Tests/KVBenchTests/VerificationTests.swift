import Testing
@testable import KVBench

@Suite("Checking what the store returns", .timeLimit(.minutes(2)))
struct VerificationTests {
    private let key = RecordKey.record(12)

    @Test("a value names its key, has the exact size, and survives the check")
    func roundTrip() {
        for size in [RecordValue.minimumSize, 100, 1_000] {
            let value = RecordValue.make(key: key, stamp: 0xDEAD_BEEF, size: size)
            #expect(value.count == size)
            #expect(value.starts(with: key))
            #expect(RecordValue.check(value, key: key, size: size) == nil)
        }
        #expect(RecordValue.make(key: key, stamp: 1, size: 100) != RecordValue.make(key: key, stamp: 2, size: 100))
    }

    @Test("wrong size, another key's value and a flipped byte are caught")
    func problems() {
        let value = RecordValue.make(key: key, stamp: 5, size: 100)
        #expect(RecordValue.check(Array(value.dropLast()), key: key, size: 100) == .wrongSize(99))
        #expect(RecordValue.check(value, key: key, size: 120) == .wrongSize(100))
        let other = RecordKey.record(13)
        #expect(RecordValue.check(RecordValue.make(key: other, stamp: 5, size: 100), key: key, size: 100) == .foreignKey)
        var flipped = value
        flipped[90] = flipped[90] == 0x61 ? 0x62 : 0x61
        #expect(RecordValue.check(flipped, key: key, size: 100) == .corrupted)
        var badStamp = value
        badStamp[key.count + 3] = 0x7A
        #expect(RecordValue.check(badStamp, key: key, size: 100) == .foreignKey)
    }

    @Test("record and account keys")
    func keys() {
        #expect(RecordKey.record(0) == Array("user\(YCSBHash.fnv64(0))".utf8))
        #expect(RecordKey.record(1) != RecordKey.record(2))
        #expect(RecordKey.record(123).count <= RecordKey.maxRecordKeyLength)
        #expect(RecordKey.account(7) == Array("acct0000000007".utf8))
        #expect(AccountValue.balance(in: AccountValue.make(key: RecordKey.account(7), balance: 990), key: RecordKey.account(7)) == 990)
        #expect(AccountValue.balance(in: AccountValue.make(key: RecordKey.account(8), balance: 990), key: RecordKey.account(7)) == nil)
    }

    @Test("a read counts a missing or wrong value as a failure, not a success")
    func executorReads() throws {
        var configuration = BenchmarkConfiguration(workload: .c)
        configuration.valueSize = 64
        let store = MemoryStore()
        let driver = MemoryDriver(store: store)
        var executor = OperationExecutor(configuration: configuration, keySpace: KeySpace(loaded: 1), stream: 0)
        // Record 0 is the only one, so every read targets it.
        let key = RecordKey.record(0)
        guard case .failure(name: "missing-value", _) = try executor.execute(.read, on: driver) else {
            Issue.record("a missing value passed")
            return
        }
        store.set(key, RecordValue.make(key: key, stamp: 1, size: 64))
        #expect(try executor.execute(.read, on: driver) == .success)
        store.set(key, RecordValue.make(key: key, stamp: 1, size: 65))
        guard case .failure(name: "wrong-value", _) = try executor.execute(.read, on: driver) else {
            Issue.record("a wrong-size value passed")
            return
        }
        store.set(key, RecordValue.make(key: RecordKey.record(1), stamp: 1, size: 64))
        guard case .failure(name: "wrong-value", _) = try executor.execute(.read, on: driver) else {
            Issue.record("another key's value passed")
            return
        }
    }

    @Test("scans must start at the chosen record, be ordered and hold valid values")
    func scans() {
        var configuration = BenchmarkConfiguration(workload: .e)
        configuration.valueSize = 64
        let executor = OperationExecutor(configuration: configuration, keySpace: KeySpace(loaded: 10), stream: 0)
        let keys = (0..<5).map(RecordKey.record).sorted { $0.lexicographicallyPrecedes($1) }
        let rows = keys.map { (key: $0, value: Optional(RecordValue.make(key: $0, stamp: 3, size: 64))) }
        #expect(executor.checkScan(rows, start: keys[0], length: 5) == .success)
        #expect(executor.checkScan(Array(rows.prefix(2)), start: keys[0], length: 5) == .success)
        func name(_ outcome: OperationExecutor.Outcome) -> String? {
            if case .failure(let name, _) = outcome { return name }
            return nil
        }
        #expect(name(executor.checkScan([], start: keys[0], length: 5)) == "scan-empty")
        #expect(name(executor.checkScan(rows, start: keys[0], length: 4)) == "scan-too-long")
        #expect(name(executor.checkScan(Array(rows.dropFirst()), start: keys[0], length: 5)) == "missing-value")
        #expect(name(executor.checkScan(rows.reversed(), start: keys[4], length: 5)) == "scan-order")
        var holed = rows
        holed[2].value = nil
        #expect(name(executor.checkScan(holed, start: keys[0], length: 5)) == "missing-value")
    }

    @Test("the key space only offers records whose insert finished, in order")
    func keySpace() {
        let space = KeySpace(loaded: 10)
        let first = space.reserve()
        let second = space.reserve()
        #expect(first == 10 && second == 11)
        space.finish(second, stored: true)
        #expect(space.readableCount == 10)
        space.finish(first, stored: false)
        #expect(space.readableCount == 12)
        #expect(space.isAbsent(first))
        #expect(!space.isAbsent(second))
    }
}
