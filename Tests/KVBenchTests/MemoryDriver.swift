@testable import KVBench

/// A driver over a ``MemoryStore``.
final class MemoryDriver: StoreDriver {
    let store: MemoryStore

    init(store: MemoryStore) { self.store = store }

    func read(_ key: [UInt8]) throws(DriverError) -> [UInt8]? { store.get(key) }
    func update(_ key: [UInt8], value: [UInt8]) throws(DriverError) { store.set(key, value) }
    func insert(_ key: [UInt8], value: [UInt8]) throws(DriverError) { store.set(key, value) }

    func scan(from start: [UInt8], count: Int) throws(DriverError) -> [(key: [UInt8], value: [UInt8]?)] {
        store.sortedPairs(from: start, count: count)
    }

    func transfer(
        _ first: [UInt8], _ second: [UInt8], plan: (_ first: [UInt8]?, _ second: [UInt8]?) -> ([UInt8], [UInt8])?
    ) throws(DriverError) -> TransactionOutcome {
        store.transact(first, second, plan) ? .committed : .skipped
    }

    func load(_ pairs: [(key: [UInt8], value: [UInt8])], indexed: Bool) throws(DriverError) {
        for pair in pairs { store.set(pair.key, pair.value) }
    }
}
