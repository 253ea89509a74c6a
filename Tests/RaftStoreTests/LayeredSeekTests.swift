import KVEngine
import KVProtocol
import KVTestSupport
@testable import RaftStore
import Testing
import Txn

@Suite("Seeking the first pair over unflushed layers and LMDB")
struct LayeredSeekTests {
    @Test("first(from:below:) agrees with a model of layers over LMDB, deletions included", arguments: 0..<8)
    func agreesWithModel(seed: UInt64) throws {
        let directory = TemporaryDirectory(prefix: "layered-seek")
        let environment = try Environment(path: directory.file("data"))
        var random = SeededGenerator(seed: seed)
        func key() -> [UInt8] { Array("k\(Int.random(in: 10..<60, using: &random))".utf8) }
        // LMDB at the bottom, then three layers, oldest first; the model applies them in that order.
        var model: [[UInt8]: [UInt8]] = [:]
        try environment.write { txn in
            for _ in 0..<25 {
                let (k, v) = (key(), Array("lmdb\(Int.random(in: 0..<99, using: &random))".utf8))
                try txn.put(v, for: k)
                model[k] = v
            }
        }
        var layers: [ChangeLayer] = []
        for level in 0..<3 {
            var changes: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<15 {
                let k = key()
                let value: [UInt8]? = Bool.random(using: &random) ? nil : Array("layer\(level)".utf8)
                changes[k] = .some(value)
            }
            for (k, v) in changes { model[k] = v }
            layers.insert(ChangeLayer(changes: Self.byteKeyed(changes)), at: 0)  // newest first
        }
        // And this round's changes, not yet a layer, read through the overlay.
        var round: [[UInt8]: [UInt8]?] = [:]
        for _ in 0..<10 {
            let k = key()
            round[k] = .some(Bool.random(using: &random) ? nil : Array("round".utf8))
        }
        var withRound = model
        for (k, v) in round { withRound[k] = v }
        let sorted = model.keys.sorted { ByteOrder.precedes($0, $1) }
        let sortedWithRound = withRound.keys.sorted { ByteOrder.precedes($0, $1) }
        try environment.read { txn in
            let overlay = RoundOverlay(changes: Self.byteKeyed(round), base: AppliedStateReader(layers: layers, txn: txn))
            for probe in 0..<200 {
                var lower = key()
                var upper = probe % 4 == 0 ? [] : key()
                if !upper.isEmpty && ByteOrder.precedes(upper, lower) { swap(&lower, &upper) }
                let expected = sortedWithRound.first { !ByteOrder.precedes($0, lower) && (upper.isEmpty || ByteOrder.precedes($0, upper)) }
                let found = try overlay.first(from: lower, below: upper)
                #expect(found?.key == expected, "seed \(seed): overlay [\(lower), \(upper))")
                #expect(found?.value == expected.flatMap { withRound[$0] })
                #expect(try overlay.get(lower) == withRound[lower])
            }
        }
        try environment.read { txn in
            let reader = AppliedStateReader(layers: layers, txn: txn)
            for _ in 0..<200 {
                var lower = key()
                var upper = Int.random(in: 0..<4, using: &random) == 0 ? [] : key()
                if !upper.isEmpty && ByteOrder.precedes(upper, lower) { swap(&lower, &upper) }
                let expected = sorted.first { !ByteOrder.precedes($0, lower) && (upper.isEmpty || ByteOrder.precedes($0, upper)) }
                let found = try reader.first(from: lower, below: upper)
                #expect(found?.key == expected, "seed \(seed): [\(lower), \(upper))")
                #expect(found?.value == expected.flatMap { model[$0] })
            }
        }
    }

    @Test("with many layers, MVCC seeks and point reads of transactional records agree with a model (the layers' key-group filters skip only layers without the key)", arguments: 0..<6)
    func transactionalRecordsAgreeWithModel(seed: UInt64) throws {
        let directory = TemporaryDirectory(prefix: "layered-seek-txn")
        let environment = try Environment(path: directory.file("data"))
        var random = SeededGenerator(seed: seed)
        // User keys of one, two and three encoded groups, some prefixes of others.
        let userKeys = ["a", "ab", "abcdefgh", "abcdefghi", "b", "zzzzzzzzzzzzzzzzz", ""].map { Array($0.utf8) }
        func record() -> [UInt8] {
            let key = userKeys.randomElement(using: &random)!
            let ts = UInt64.random(in: 1...6, using: &random)
            switch Int.random(in: 0..<3, using: &random) {
            case 0: return TxnKeys.lock(key)
            case 1: return TxnKeys.write(key, commitTS: ts)
            default: return TxnKeys.data(key, startTS: ts)
            }
        }
        var model: [[UInt8]: [UInt8]] = [:]
        try environment.write { txn in
            for _ in 0..<20 {
                let (k, v) = (record(), Array("lmdb\(Int.random(in: 0..<99, using: &random))".utf8))
                try txn.put(v, for: k)
                model[k] = v
            }
        }
        var layers: [ChangeLayer] = []
        for level in 0..<8 {
            var changes: [[UInt8]: [UInt8]?] = [:]
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                changes[record()] = .some(Bool.random(using: &random) ? nil : Array("layer\(level)".utf8))
            }
            for (k, v) in changes { model[k] = v }
            layers.insert(ChangeLayer(changes: Self.byteKeyed(changes)), at: 0)
        }
        let sorted = model.keys.sorted { ByteOrder.precedes($0, $1) }
        try environment.read { txn in
            let reader = AppliedStateReader(layers: layers, txn: txn)
            for _ in 0..<300 {
                let key = userKeys.randomElement(using: &random)!
                let ts = UInt64.random(in: 0...7, using: &random)
                let ranges: [([UInt8], [UInt8])] = [
                    (TxnKeys.lock(key), TxnKeys.write(key, commitTS: 0) + [0]),  // lock or newest write
                    (TxnKeys.write(key, commitTS: ts), TxnKeys.write(key, commitTS: 0) + [0]),  // write at or before ts
                    (TxnKeys.lock(key), TxnKeys.write(key, commitTS: ts) + [0]),  // lock or writes since ts
                    (TxnKeys.base(key), TxnKeys.end(key)),  // every record of the key
                ]
                for (lower, upper) in ranges {
                    let expected = sorted.first { !ByteOrder.precedes($0, lower) && ByteOrder.precedes($0, upper) }
                    let found = try reader.first(from: lower, below: upper)
                    #expect(found?.key == expected, "seed \(seed): [\(lower), \(upper))")
                    #expect(found?.value == expected.flatMap { model[$0] })
                }
                let point = record()
                #expect(try reader.get(point) == model[point], "seed \(seed): get \(point)")
            }
        }
    }

    @Test("a range is one key group only within one user key's records")
    func keyGroupsOfRanges() {
        let key = Array("account".utf8)
        let other = Array("account1".utf8)
        #expect(KeyGroup.hash(within: TxnKeys.lock(key), TxnKeys.end(key)) == KeyGroup.hash(TxnKeys.write(key, commitTS: 9)))
        #expect(KeyGroup.hash(within: TxnKeys.lock(key), TxnKeys.end(other)) == nil)
        #expect(KeyGroup.hash(within: TxnKeys.lock(key), []) == nil)
        #expect(KeyGroup.hash(within: Array("raw".utf8), Array("raw~".utf8)) == nil)  // raw keys: one group each
        #expect(KeyGroup.hash(TxnKeys.data(key, startTS: 3)) == KeyGroup.hash(TxnKeys.lock(key)))
        #expect(KeyGroup.hash(TxnKeys.lock(other)) != KeyGroup.hash(TxnKeys.lock(key)))
    }

    @Test("byte order: shorter prefixes first, then by unsigned bytes")
    func byteOrder() {
        #expect(ByteOrder.precedes([], [0]))
        #expect(ByteOrder.precedes([1], [1, 0]))
        #expect(ByteOrder.precedes([0x7F], [0x80]))
        #expect(!ByteOrder.precedes([2], [1, 9]))
        #expect(ByteOrder.compare([1, 2], [1, 2]) == 0)
        #expect(!ByteOrder.precedes([1, 2], [1, 2]))
    }

    private static func byteKeyed(_ changes: [[UInt8]: [UInt8]?]) -> [ByteKey: [UInt8]?] {
        Dictionary(uniqueKeysWithValues: changes.map { (ByteKey($0.key), $0.value) })
    }
}
