import KVEngine
import KVProtocol

/// Reads the applied state machine: the unflushed layers (newest first) over an LMDB snapshot of the
/// `default` column family. Used by reads on the network threads, by the store loop while it applies, and
/// offline through ``DurableState``.
public struct AppliedStateReader {
    /// Unflushed changes, newest first; a layer's word beats older layers and LMDB.
    let layers: [ChangeLayer]
    /// The LMDB snapshot underneath.
    public let txn: Transaction

    init(layers: [ChangeLayer], txn: Transaction) {
        self.layers = layers
        self.txn = txn
    }

    /// The value of `key`, or nil when absent.
    ///
    /// - Throws: An engine failure.
    public func get(_ key: [UInt8]) throws -> [UInt8]? {
        let group = layers.count > 1 ? KeyGroup.hash(key) : nil
        for layer in layers {
            if let group, !layer.mayHold(groupHash: group) { continue }
            switch layer.lookup(key) {
            case .unchanged: continue
            case .deleted: return nil
            case .value(let value): return value
            }
        }
        return try txn.get(key)
    }

    /// Whether `key` holds a value.
    ///
    /// - Throws: An engine failure.
    public func exists(_ key: [UInt8]) throws -> Bool {
        for layer in layers {
            switch layer.lookup(key) {
            case .unchanged: continue
            case .deleted: return false
            case .value: return true
            }
        }
        return try txn.withValue(key) { $0 != nil }
    }

    /// The rows of a scan, merging the layers into LMDB's order, at most `limit` rows or about
    /// ``ProtocolLimits/maxScanBytes``; `more` says the range holds further rows.
    ///
    /// - Throws: An engine failure.
    public func scan(_ request: ScanRequest) throws -> (rows: [ScanRow], more: Bool) {
        let range = KeyRange(
            lower: request.start.isEmpty ? nil : request.start, upper: request.end.isEmpty ? nil : request.end)
        let reverse = request.reverse
        var cursors = layers.map { layer -> Int in
            if reverse {
                return (range.upper.map { layer.lowerBound($0) } ?? layer.count) - 1
            }
            return range.lower.map { layer.lowerBound($0) } ?? 0
        }
        func layerKey(_ i: Int) -> [UInt8]? {
            let position = cursors[i]
            guard position >= 0 && position < layers[i].count else { return nil }
            let key = layers[i].keys[position]
            return range.contains(key) ? key : nil
        }
        func before(_ a: [UInt8], _ b: [UInt8]) -> Bool {
            reverse ? ByteOrder.precedes(b, a) : ByteOrder.precedes(a, b)
        }

        var rows: [ScanRow] = []
        var bytes = 0
        var more = false
        try txn.withIterator(range: range, reverse: reverse) { iterator in
            var stored = try iterator.next()
            while true {
                var next = stored?.key
                for i in layers.indices {
                    if let key = layerKey(i), next == nil || before(key, next!) { next = key }
                }
                guard let key = next else { return }
                var value: [UInt8]??
                for i in layers.indices where layerKey(i) == key {
                    if value == nil { value = .some(layers[i].values[cursors[i]]) }
                    cursors[i] += reverse ? -1 : 1
                }
                if stored?.key == key {
                    if value == nil { value = .some(stored!.value) }
                    stored = try iterator.next()
                }
                guard case .some(.some(let found)) = value else { continue }  // deleted, not yet flushed
                if rows.count == request.limit || bytes >= ProtocolLimits.maxScanBytes {
                    more = true
                    return
                }
                rows.append(ScanRow(key: key, value: request.keysOnly ? nil : found))
                bytes += key.count + (request.keysOnly ? 0 : found.count)
            }
        }
        return (rows, more)
    }

    /// The number of keys the applied state holds: LMDB's count corrected by the unflushed changes.
    ///
    /// - Throws: An engine failure.
    public func keyCount() throws -> Int {
        var count = try txn.statistics(of: .default).entries
        var seen = Set<[UInt8]>()
        for layer in layers {
            for (key, value) in zip(layer.keys, layer.values) where seen.insert(key).inserted {
                let stored = try txn.withValue(key) { $0 != nil }
                if value != nil && !stored { count += 1 }
                if value == nil && stored { count -= 1 }
            }
        }
        return count
    }
}
