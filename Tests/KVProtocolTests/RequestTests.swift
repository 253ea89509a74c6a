import KVProtocol
import KVTestSupport
import Testing

@Suite("Request parsing and encoding", .timeLimit(.minutes(2)))
struct RequestTests {
    private func parse(_ line: String) throws(ProtocolError) -> Request {
        try Request.parse(Array(line.utf8)[...])
    }

    private func code(_ line: String) -> ErrorCode? {
        do {
            _ = try parse(line)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("every verb parses, case-insensitively, with runs of spaces")
    func verbs() throws {
        #expect(try parse("PING") == .ping)
        #expect(try parse("ping") == .ping)
        #expect(try parse("HeLLo") == .hello)
        #expect(try parse("stats") == .stats)
        #expect(try parse("QUIT") == .quit)
        #expect(try parse("get  k") == .get(key: Array("k".utf8)))
        #expect(try parse("PUT k%20x \"\"") == .put(key: Array("k x".utf8), value: []))
        #expect(try parse("del k") == .delete(key: Array("k".utf8)))
        #expect(try parse("SCAN a z") == .scan(ScanRequest(start: Array("a".utf8), end: Array("z".utf8))))
        #expect(
            try parse("scan \"\" \"\" limit 5 reverse keysonly")
                == .scan(ScanRequest(start: [], end: [], limit: 5, reverse: true, keysOnly: true)))
    }

    @Test("bad requests get the right error code")
    func errors() {
        #expect(code("") == .unknownCommand)
        #expect(code("FROB x") == .unknownCommand)
        #expect(code("GET") == .wrongArity)
        #expect(code("GET a b") == .wrongArity)
        #expect(code("PUT a") == .wrongArity)
        #expect(code("PING x") == .wrongArity)
        #expect(code("SCAN a") == .wrongArity)
        #expect(code("SCAN a b LIMIT") == .wrongArity)
        #expect(code("SCAN a b LIMIT x") == .badArgument)
        #expect(code("SCAN a b LIMIT 0") == .badArgument)
        #expect(code("SCAN a b LIMIT 10001") == .badArgument)
        #expect(code("SCAN a b SIDEWAYS") == .badArgument)
        #expect(code("GET a%zz") == .badEscape)
        #expect(code("GET \"\"") == .emptyKey)
        #expect(code("GET " + String(repeating: "k", count: ProtocolLimits.maxKeySize)) == nil)
        #expect(code("GET " + String(repeating: "k", count: ProtocolLimits.maxKeySize + 1)) == .keyTooLarge)
        #expect(code("PUT k " + String(repeating: "v", count: ProtocolLimits.maxValueSize)) == nil)
        #expect(code("PUT k " + String(repeating: "v", count: ProtocolLimits.maxValueSize + 1)) == .valueTooLarge)
        #expect(code("PUT %FFk v") == .badArgument)
        #expect(code("TGET k") == .wrongArity)
        #expect(code("TGET k 18446744073709551616") == .badArgument)
        #expect(code("PREWRITE p 1 100 PUT k") == .wrongArity)
        #expect(code("PREWRITE p 1 100 FROB k") == .badArgument)
        #expect(code("COMMIT 5 4 k") == .badArgument)
        #expect(code("ROLLBACK 5") == .wrongArity)
        #expect(code("CHECK_TXN p 1") == .wrongArity)
        #expect(code("RESOLVE 5 3 k") == .badArgument)
        #expect(code("TSCAN a b 5 LIMIT 0") == .badArgument)
    }

    @Test("random requests survive encode then parse")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            var key = random.bytes(Int.random(in: 1...40, using: &random))
            if key[0] == Request.transactionalKeyPrefix { key[0] = 0 }  // raw keys stay below 0xFF
            let value = random.bytes(Int.random(in: 0...100, using: &random))
            let request: Request =
                switch Int.random(in: 0..<7, using: &random) {
                case 5: .raft(RaftTransferChunk(
                    fromStore: UInt64.random(in: 1...UInt64.max, using: &random), sequence: UInt64(value.count), isLast: Bool.random(using: &random),
                    payload: random.bytes(Int.random(in: 0...600, using: &random)), fromAddress: value.isEmpty ? "" : "/tmp/n0.sock",
                    clusterID: UInt64.random(in: 0...3, using: &random), expectsReply: Bool.random(using: &random)))
                case 4: .txn(.prewrite(TxnPrewrite(
                    primary: key, startTS: UInt64.random(in: 0...UInt64.max, using: &random), ttl: 3000,
                    mutations: [TxnMutation(.put, key: key, value: value), TxnMutation(.delete, key: value.isEmpty ? [0xFF] : value)])))
                case 0: .get(key: key)
                case 1: .put(key: key, value: value)
                case 2: .delete(key: key)
                case 3:
                    .scan(ScanRequest(
                        start: key, end: value, limit: Int.random(in: 1...10_000, using: &random),
                        reverse: Bool.random(using: &random), keysOnly: Bool.random(using: &random)))
                default: .ping
                }
            let line = request.encoded
            #expect(line.last == 0x0A)
            #expect(try Request.parse(line.dropLast()) == request)
        }
    }

    @Test("every transactional request survives encode then parse, its line within the length bound")
    func transactionalRoundTrip() throws {
        var random = SeededGenerator(seed: 11)
        func key() -> [UInt8] {
            var key = random.bytes(Int.random(in: 1...30, using: &random))
            if key[0] == Request.transactionalKeyPrefix { key[0] = 0 }
            return key
        }
        func timestamp() -> UInt64 {
            // Every digit count, and the extremes.
            [0, 9, 10, UInt64.max, UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random)][
                Int.random(in: 0..<5, using: &random)]
        }
        func startAndCommit() -> (UInt64, UInt64) {
            let start = min(timestamp(), UInt64.max - 1)
            return (start, start + 1 + UInt64.random(in: 0...(UInt64.max - start - 1), using: &random) >> UInt64.random(in: 0...63, using: &random))
        }
        for _ in 0..<2_000 {
            let keys = (0..<Int.random(in: 1...4, using: &random)).map { _ in key() }
            let (startTS, commitTS) = startAndCommit()
            let mutations = keys.enumerated().map { i, key in
                i % 3 == 0 ? TxnMutation(.put, key: key, value: random.bytes(Int.random(in: 0...40, using: &random)))
                    : TxnMutation(i % 3 == 1 ? .delete : .lock, key: key)
            }
            let unique = Set(keys).count == keys.count
            let request: TxnRequest =
                switch Int.random(in: 0..<10, using: &random) {
                case 0: .get(key: keys[0], startTS: timestamp())
                case 1: .batchGet(keys: keys, startTS: timestamp())
                case 2: .scan(TxnScan(start: keys[0], end: Bool.random(using: &random) ? [] : key(), startTS: timestamp(),
                                      limit: Int.random(in: 1...10_000, using: &random), keysOnly: Bool.random(using: &random)))
                case 3 where unique: .prewrite(TxnPrewrite(primary: keys[0], startTS: timestamp(), ttl: UInt64.random(in: 0...86_400_000, using: &random), mutations: mutations))
                case 4 where unique: .commitOnePhase(startTS: startTS, commitTS: Bool.random(using: &random) ? 0 : commitTS, mutations: mutations)
                case 5: .commit(startTS: startTS, commitTS: commitTS, keys: keys)
                case 6: .rollback(startTS: timestamp(), keys: keys)
                case 7: .checkStatus(primary: keys[0], startTS: timestamp(), currentTS: timestamp())
                case 8: .resolve(startTS: startTS, commitTS: Bool.random(using: &random) ? 0 : commitTS, keys: keys)
                default: .gc(safePoint: timestamp(), mode: Bool.random(using: &random) ? .full : .values, keys: keys)
                }
            let line = Request.txn(request).encoded
            #expect(line.count - 1 <= request.lineLengthBound)
            let parsed = try Request.parse(line.dropLast())
            #expect(parsed == .txn(request), "\(String(decoding: line, as: UTF8.self))")
        }
    }

    @Test("a region context goes before data requests only, and survives encoding")
    func regionContext() throws {
        let context = RegionContext(regionID: 7, epoch: RegionEpoch(confVersion: 3, version: 2))
        #expect(try parse("@7:3:2 GET k") == .inRegion(context, .get(key: Array("k".utf8))))
        #expect(try parse("@7:3:2 put k v") == .inRegion(context, .put(key: Array("k".utf8), value: Array("v".utf8))))
        let request = Request.inRegion(context, .scan(ScanRequest(start: [0x00], end: [], limit: 5, reverse: true)))
        #expect(try Request.parse(request.encoded.dropLast()) == request)
        #expect(request.isWrite == false && request.readsData)
        #expect(code("@7:3 GET k") == .badArgument)
        #expect(code("@7:3:2 STATS") == .badArgument)
        #expect(code("@7:3:2 @7:3:2 GET k") == .badArgument)
        #expect(code("@7:3:2") == .wrongArity)
        let region = Region(id: 7, startKey: Array("a".utf8), endKey: Array("m".utf8), epoch: RegionEpoch(confVersion: 3, version: 2), peers: [])
        #expect(context.mismatch(with: region, key: Array("b".utf8)) == nil)
        #expect(context.mismatch(with: region, key: Array("z".utf8))?.code == .keyNotInRegion)
        var newer = region
        newer.epoch.version = 3
        let refusal = try #require(context.mismatch(with: newer, key: Array("b".utf8)))
        #expect(refusal.code == .epochNotMatch)
        #expect(refusal.message.hasPrefix("id=7 start=a end=m conf_ver=3 version=3"))
    }

    @Test("prefix scans end at the prefix's successor")
    func prefixScan() {
        #expect(ScanRequest.prefix(Array("ab".utf8)).end == Array("ac".utf8))
        #expect(ScanRequest.prefix([0x61, 0xFF]).end == [0x62])
        #expect(ScanRequest.prefix([0xFF, 0xFF]).end == [])
    }
}
