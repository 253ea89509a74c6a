import KVProtocol
import KVTestSupport
import Testing
import Txn

@Suite("Transactional key encoding")
struct TxnKeysTests {
    @Test("base() keeps byte order and no encoded key is a prefix of another's")
    func orderAndPrefixFreedom() {
        var random = SeededGenerator(seed: 7)
        var keys: [[UInt8]] = [[], [0], [0, 0], [0xFF], Array(repeating: 0, count: 8), Array(repeating: 0xFF, count: 8), Array(repeating: 0, count: 9)]
        for _ in 0..<300 {
            let length = Int.random(in: 1...20, using: &random)
            keys.append((0..<length).map { _ in [0, 1, 0xFE, 0xFF, UInt8.random(in: 0...255, using: &random)].randomElement(using: &random)! })
        }
        for a in keys {
            let encodedA = TxnKeys.base(a)
            #expect(TxnKeys.decode(encodedA) == TxnKeys.Decoded(userKey: a, family: nil, timestamp: nil))
            for b in keys where a != b {
                let encodedB = TxnKeys.base(b)
                #expect(a.lexicographicallyPrecedes(b) == encodedA.lexicographicallyPrecedes(encodedB))
                #expect(!encodedB.starts(with: encodedA))
                // Every record of a sorts entirely before or after every record of b.
                if a.lexicographicallyPrecedes(b) { #expect(TxnKeys.end(a).lexicographicallyPrecedes(TxnKeys.lock(b))) }
            }
        }
    }

    @Test("records of a key: the lock first, then writes and values newest first")
    func recordOrder() {
        let key = Array("account".utf8)
        let ordered = [
            TxnKeys.base(key), TxnKeys.lock(key), TxnKeys.write(key, commitTS: 30), TxnKeys.write(key, commitTS: 20),
            TxnKeys.data(key, startTS: 25), TxnKeys.data(key, startTS: 10), TxnKeys.end(key),
        ]
        for i in 1..<ordered.count { #expect(ordered[i - 1].lexicographicallyPrecedes(ordered[i])) }
        #expect(TxnKeys.decode(TxnKeys.write(key, commitTS: 30)) == TxnKeys.Decoded(userKey: key, family: .write, timestamp: 30))
        #expect(TxnKeys.decode(TxnKeys.data(key, startTS: 10)) == TxnKeys.Decoded(userKey: key, family: .data, timestamp: 10))
        #expect(TxnKeys.decode(Array("raw".utf8)) == nil)
    }

    @Test("split boundaries fall between user keys")
    func splitBoundaries() {
        let key = Array("a-key-longer-than-eight".utf8)
        for stored in [TxnKeys.lock(key), TxnKeys.write(key, commitTS: 9), TxnKeys.data(key, startTS: 3), TxnKeys.base(key)] {
            #expect(TxnKeys.splitBoundary(stored) == TxnKeys.base(key))
        }
        #expect(TxnKeys.splitBoundary(Array("raw-key".utf8)) == Array("raw-key".utf8))
        // A cut inside the groups of a key falls back to a whole prefix of it, at or before the key's records.
        let cut = Array(TxnKeys.base(key).prefix(14))
        let boundary = TxnKeys.splitBoundary(cut)
        #expect(!TxnKeys.base(key).lexicographicallyPrecedes(boundary))
        #expect(TxnKeys.userKeyLowerBound(TxnKeys.base(key)) == key)
        #expect(TxnKeys.userKeyLowerBound(Array("m".utf8)) == [])
        #expect(TxnKeys.userKeyLowerBound([0xFF]) == [])
    }

    @Test("raw keys may not enter the transactional key space")
    func rawKeysRefused() {
        #expect(throws: ProtocolError.self) { try Request.parse(Array("PUT %FFa v".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try Request.parse(Array("GET %FF".utf8)[...]) }
        #expect((try? Request.parse(Array("TGET %FF 5".utf8)[...])) == .txn(.get(key: [0xFF], startTS: 5)))
    }

    @Test("transactional requests round-trip through their line form")
    func requestRoundTrip() throws {
        let requests: [TxnRequest] = [
            .get(key: Array("k".utf8), startTS: 10),
            .batchGet(keys: [Array("a".utf8), [0xFF, 0x20], Array("a b".utf8)], startTS: 0),
            .batchGet(keys: [Array("k".utf8)], startTS: 10),
            .scan(TxnScan(start: [], end: Array("z z".utf8), startTS: 11, limit: 5, keysOnly: true)),
            .prewrite(TxnPrewrite(primary: Array("p".utf8), startTS: 12, ttl: 3000, mutations: [
                TxnMutation(.put, key: Array("p".utf8), value: Array("v 1".utf8)), TxnMutation(.delete, key: [0xFF, 0]),
                TxnMutation(.lock, key: Array("l".utf8)), TxnMutation(.put, key: Array("e".utf8), value: []),
            ])),
            .commit(startTS: 12, commitTS: 13, keys: [Array("p".utf8), [0xFF, 0]]),
            .rollback(startTS: 12, keys: [Array("p".utf8)]),
            .checkStatus(primary: Array("p".utf8), startTS: 12, currentTS: UInt64.max),
            .resolve(startTS: 12, commitTS: 0, keys: []),
            .commitOnePhase(startTS: 12, commitTS: 0, mutations: [TxnMutation(.put, key: Array("k".utf8), value: Array("v".utf8)), TxnMutation(.lock, key: [0])]),
            .gc(safePoint: 99, mode: .values, keys: [Array("k".utf8)]),
        ]
        for request in requests {
            let line = Request.txn(request).encoded
            #expect(try Request.parse(line.dropLast()) == .txn(request))
        }
        // Write records: without a value, with a short one, with an empty one; damaged forms refused.
        for record in [WriteRecord(kind: .delete, startTS: 7), WriteRecord(kind: .put, startTS: 8, shortValue: Array("v".utf8)),
                       WriteRecord(kind: .put, startTS: 9, shortValue: [])] {
            #expect(try WriteRecord(decoding: record.encoded()) == record)
        }
        #expect(throws: TxnCorruption.self) { try WriteRecord(decoding: WriteRecord(kind: .put, startTS: 8).encoded() + [0x00]) }
        #expect(throws: TxnCorruption.self) { try WriteRecord(decoding: WriteRecord(kind: .rollback, startTS: 8).encoded() + [0x76]) }
        let lock = LockInfo(key: [0xFF, 0x20], primary: Array("p q".utf8), startTS: 99, ttl: 3000, kind: .delete)
        #expect(try LockInfo(message: lock.error.message) == lock)
        #expect(throws: ProtocolError.self) { try Request.parse(Array("COMMIT 5 5 k".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try Request.parse(Array("PREWRITE p 5 100 PUT k 1 DEL k".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try Request.parse(Array("PREWRITE p 5 100".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try Request.parse(Array("TGET k -1".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try Request.parse(Array("TMGET 5".utf8)[...]) }
        let tooMany = "TMGET 5" + String(repeating: " k", count: TxnBatchRead.maxKeys + 1)
        #expect(throws: ProtocolError.self) { try Request.parse(Array(tooMany.utf8)[...]) }
        // The answer: the timestamp first, then a row per key in order, absent keys without a value.
        let answer = TxnBatchRead(startTS: 42, rows: [ScanRow(key: Array("a".utf8), value: []), ScanRow(key: Array("b".utf8), value: nil)])
        var assembler = ResponseAssembler()
        var parsed: Response?
        for line in answer.response.encoded.split(separator: 0x0A) { parsed = try assembler.feed(line[...]) }
        #expect(try TxnBatchRead(parsing: #require(parsed), keys: [Array("a".utf8), Array("b".utf8)]) == answer)
        #expect(throws: ProtocolError.self) { try TxnBatchRead(parsing: answer.response, keys: [Array("a".utf8)]) }
        #expect(throws: ProtocolError.self) { try TxnBatchRead(parsing: .rows([], more: false), keys: []) }
    }
}
