import Foundation
import KVProtocol
import KVServer
import KVTestSupport
import RaftStore
import Testing

@Suite("Reads over unflushed layers and LMDB", .timeLimit(.minutes(3)))
struct AppliedStateTests {
    @Test("random writes, reads and scans agree with a model while flushes move data into LMDB", arguments: 0..<6)
    func agreesWithModel(seed: UInt64) throws {
        let directory = TemporaryDirectory(prefix: "raftstore")
        var options = testOptions()
        options.flushMilliseconds = [5, 50, 600_000][Int(seed % 3)]
        options.flushBytes = [4 << 10, 64 << 10, 1 << 30][Int(seed % 3)]
        let store = try openStore(directory.file("data"), options)
        defer { store.close() }
        var random = SeededGenerator(seed: seed)
        var model: [[UInt8]: [UInt8]] = [:]
        func key() -> [UInt8] { bytes("k\(Int.random(in: 0..<60, using: &random))") }
        for step in 0..<400 {
            var requests: [Request] = []
            var expected: [Response] = []
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                switch Int.random(in: 0..<10, using: &random) {
                case 0..<4:
                    let k = key()
                    let v = bytes("v\(step)-\(Int.random(in: 0..<1000, using: &random))")
                    requests.append(.put(key: k, value: v))
                    expected.append(.ok)
                    model[k] = v
                case 4..<6:
                    let k = key()
                    requests.append(.delete(key: k))
                    expected.append(.ok([model.removeValue(forKey: k) == nil ? "0" : "1"]))
                case 6..<8:
                    let k = key()
                    requests.append(.get(key: k))
                    expected.append(model[k].map(Response.value) ?? .notFound)
                default:
                    var a = key()
                    var b = key()
                    if b.lexicographicallyPrecedes(a) { swap(&a, &b) }
                    let reverse = Bool.random(using: &random)
                    let limit = Int.random(in: 1...20, using: &random)
                    requests.append(.scan(ScanRequest(start: a, end: b, limit: limit, reverse: reverse)))
                    var rows = model.filter { !$0.key.lexicographicallyPrecedes(a) && $0.key.lexicographicallyPrecedes(b) }
                        .sorted { $0.key.lexicographicallyPrecedes($1.key) }
                    if reverse { rows.reverse() }
                    expected.append(.rows(rows.prefix(limit).map { ScanRow(key: $0.key, value: $0.value) }, more: rows.count > limit))
                }
            }
            let answers = requests.contains(where: \.isWrite) ? store.run(requests) : store.read(requests)
            #expect(answers == expected, "seed \(seed) step \(step): \(requests)")
            if answers != expected { return }
            if step % 50 == 49 {
                let all = store.read([.scan(ScanRequest(limit: 10_000))])
                let rows = model.sorted { $0.key.lexicographicallyPrecedes($1.key) }.map { ScanRow(key: $0.key, value: $0.value) }
                #expect(all == [.rows(rows, more: false)])
                #expect(store.stat("keys") == "\(model.count)")
            }
        }
    }
}

@Suite("Split commands")
struct SplitCommandTests {
    static let region = Region(
        id: 2, startKey: Array("b".utf8), endKey: Array("m".utf8), epoch: RegionEpoch(confVersion: 3, version: 2),
        peers: [RegionPeer(id: 3, storeID: 1), RegionPeer(id: 5, storeID: 4)])

    @Test("a split command survives encoding; damaged bytes are refused, not misread")
    func roundTrip() throws {
        let command = SplitCommand(
            regionID: 2, epoch: Self.region.epoch, splitKey: Array("g".utf8), newRegionID: 8, newPeerIDs: [(3, 9), (5, 10)])
        let bytes = command.encoded()
        #expect(try SplitCommand(decoding: bytes) == command)
        for cut in 0..<bytes.count { #expect(throws: RaftStoreError.self) { try SplitCommand(decoding: Array(bytes[..<cut])) } }
        #expect(throws: RaftStoreError.self) { try SplitCommand(decoding: bytes + [0]) }
    }
}

extension SplitCommandTests {
    @Test("a split applies only at the epoch it was proposed at, strictly inside the range, with a new peer per peer")
    func outcome() throws {
        let command = SplitCommand(
            regionID: 2, epoch: Self.region.epoch, splitKey: Array("g".utf8), newRegionID: 8, newPeerIDs: [(3, 9), (5, 10)])
        let (left, right) = try command.outcome(for: Self.region).get()
        #expect(left.id == 2 && left.startKey == Array("b".utf8) && left.endKey == Array("g".utf8))
        #expect(right.id == 8 && right.startKey == Array("g".utf8) && right.endKey == Array("m".utf8))
        #expect(left.epoch == RegionEpoch(confVersion: 3, version: 3) && right.epoch == left.epoch)
        #expect(right.peers == [RegionPeer(id: 9, storeID: 1), RegionPeer(id: 10, storeID: 4)])
        #expect(left.peers == Self.region.peers)
        var changed = Self.region
        changed.epoch.confVersion += 1
        #expect(throws: ProtocolError.self) { try command.outcome(for: changed).get() }
        for key in ["b", "a", "m", "z"] {
            var outside = command
            outside.splitKey = Array(key.utf8)
            #expect(throws: ProtocolError.self) { try outside.outcome(for: Self.region).get() }
        }
        var missing = command
        missing.newPeerIDs = [(3, 9)]
        #expect(throws: ProtocolError.self) { try missing.outcome(for: Self.region).get() }
    }
}
