import KVEngine
import KVTestSupport
import Testing

private func key(_ i: Int) -> [UInt8] { Array("key-\(String(format: "%05d", i))".utf8) }

import Foundation

@Suite("Iterators and ranges", .timeLimit(.minutes(2)))
struct IteratorTests {
    /// An environment holding key-00000 ... key-(count-1) with value = key reversed.
    private func filled(_ count: Int) throws -> (TemporaryDirectory, Environment) {
        let directory = TemporaryDirectory()
        let environment = try Environment(path: directory.path)
        try environment.write { txn in
            for i in 0..<count { try txn.put(key(i).reversed(), for: key(i)) }
            try txn.put([1], for: key(0), in: .write)  // other families do not leak into scans
        }
        return (directory, environment)
    }

    @Test("forward and reverse scans honour inclusive lower and exclusive upper bounds")
    func bounds() throws {
        let (_, environment) = try filled(100)
        try environment.read { txn throws in
            let all = try txn.scan()
            #expect(all.map(\.key) == (0..<100).map(key))
            #expect(all.allSatisfy { $0.value == $0.key.reversed() })

            let middle = try txn.scan(range: KeyRange(lower: key(10), upper: key(20)))
            #expect(middle.map(\.key) == (10..<20).map(key))

            let backwards = try txn.scan(range: KeyRange(lower: key(10), upper: key(20)), reverse: true)
            #expect(backwards.map(\.key) == (10..<20).reversed().map(key))

            // Bounds that fall between keys.
            let between = try txn.scan(range: KeyRange(lower: key(10) + [0], upper: key(12) + [0]))
            #expect(between.map(\.key) == [key(11), key(12)])
            let betweenReverse = try txn.scan(range: KeyRange(lower: key(10) + [0], upper: key(12) + [0]), reverse: true)
            #expect(betweenReverse.map(\.key) == [key(12), key(11)])

            #expect(try txn.scan(range: KeyRange(lower: key(50)), limit: 3).map(\.key) == [key(50), key(51), key(52)])
            #expect(try txn.scan(range: KeyRange(upper: key(3)), reverse: true).map(\.key) == [key(2), key(1), key(0)])
            #expect(try txn.scan(range: KeyRange(lower: key(99) + [0])).isEmpty)
            #expect(try txn.scan(range: KeyRange(upper: key(0)), reverse: true).isEmpty)
            #expect(try txn.scan(range: KeyRange(lower: key(5), upper: key(5))).isEmpty)
            #expect(try txn.scan(in: .write).map(\.key) == [key(0)])
        }
    }

    @Test("an iterator can seek within its range, in both directions")
    func seek() throws {
        let (_, environment) = try filled(50)
        try environment.read { txn throws in
            try txn.withIterator(range: KeyRange(lower: key(10), upper: key(40))) { iterator throws in
                #expect(try iterator.next()?.key == key(10))
                iterator.seek(to: key(30) + [0])
                #expect(try iterator.next()?.key == key(31))
                iterator.seek(to: key(5))
                #expect(try iterator.next()?.key == key(10))  // clamped to the range
                iterator.seek(to: key(39))
                #expect(try iterator.next()?.key == key(39))
                #expect(try iterator.next() == nil)
            }
            try txn.withIterator(range: KeyRange(lower: key(10), upper: key(40)), reverse: true) { iterator throws in
                #expect(try iterator.next()?.key == key(39))
                iterator.seek(to: key(20))
                #expect(try iterator.next()?.key == key(20))
                #expect(try iterator.next()?.key == key(19))
                iterator.seek(to: key(45))
                #expect(try iterator.next()?.key == key(39))  // clamped to the range
            }
        }
    }

    @Test("range delete removes exactly the range, across many pages")
    func rangeDelete() throws {
        let (_, environment) = try filled(10_000)
        let removed = try environment.write { txn in try txn.deleteRange(KeyRange(lower: key(1_000), upper: key(9_000))) }
        #expect(removed == 8_000)
        try environment.read { txn throws in
            let left = try txn.scan().map(\.key)
            #expect(left == (0..<1_000).map(key) + (9_000..<10_000).map(key))
            #expect(try txn.get(key(0), in: .write) == [1])
        }
        #expect(try environment.write { txn in try txn.deleteRange(.all) } == 2_000)
        #expect(try environment.statistics(of: .default).entries == 0)
    }

    @Test("statistics count entries as mdb_stat does")
    func statistics() throws {
        let (_, environment) = try filled(1_000)
        let stats = try environment.statistics(of: .default)
        #expect(stats.entries == 1_000)
        #expect(stats.depth >= 2)
        #expect(stats.leafPages > 1)
        #expect(stats.bytes == (stats.branchPages + stats.leafPages + stats.overflowPages) * stats.pageSize)
    }
}
