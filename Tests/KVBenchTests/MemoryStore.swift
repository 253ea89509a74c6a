@testable import KVBench

/// An in-memory store shared by the drivers of a test, with switches to make it misbehave.
final class MemoryStore {
    private let lock = BenchLock()
    private var data: [[UInt8]: [UInt8]] = [:]
    /// The keys in order, for scans.
    private var sortedKeys: [[UInt8]] = []
    private var writes = 0

    /// Drop every n-th write silently (acknowledged but not stored), 0 for never.
    let dropEveryNthWrite: Int
    /// Answer reads with a value one byte short.
    let truncateReads: Bool

    init(dropEveryNthWrite: Int = 0, truncateReads: Bool = false) {
        self.dropEveryNthWrite = dropEveryNthWrite
        self.truncateReads = truncateReads
    }

    func get(_ key: [UInt8]) -> [UInt8]? {
        lock.withLock {
            guard let value = data[key] else { return nil }
            return truncateReads ? Array(value.dropLast()) : value
        }
    }

    func set(_ key: [UInt8], _ value: [UInt8]) {
        lock.withLock {
            writes += 1
            if dropEveryNthWrite > 0 && writes % dropEveryNthWrite == 0 { return }
            store(key, value)
        }
    }

    /// Stores a pair (the lock is held).
    private func store(_ key: [UInt8], _ value: [UInt8]) {
        if data.updateValue(value, forKey: key) == nil { sortedKeys.insert(key, at: lowerBound(key)) }
    }

    /// The index of the first key not before `key` (the lock is held).
    private func lowerBound(_ key: [UInt8]) -> Int {
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle].lexicographicallyPrecedes(key) { low = middle + 1 } else { high = middle }
        }
        return low
    }

    func sortedPairs(from start: [UInt8], count: Int) -> [(key: [UInt8], value: [UInt8]?)] {
        lock.withLock {
            sortedKeys[lowerBound(start)...]
                .prefix { $0.lexicographicallyPrecedes(RecordKey.recordRangeEnd) }
                .prefix(count)
                .map { ($0, data[$0]) }
        }
    }

    /// Both values, then a write of both if `decide` says so, atomically.
    func transact(_ first: [UInt8], _ second: [UInt8], _ decide: ([UInt8]?, [UInt8]?) -> ([UInt8], [UInt8])?) -> Bool {
        lock.withLock {
            guard let (newFirst, newSecond) = decide(data[first], data[second]) else { return false }
            store(first, newFirst)
            store(second, newSecond)
            return true
        }
    }
}

extension MemoryStore: @unchecked Sendable {}
