import KVEngine
import KVProtocol
import Synchronization
import Txn

#if canImport(Glibc)
import Glibc
#endif

// The transactional API on the raftstore: write commands run while the Raft log applies (so every replica
// runs them in log order on the same state — the log serializes commands on the same keys, which is what
// TiKV's latches do for commands computed before proposing); reads run on any thread like raw reads.
extension RaftStore {
    /// Runs a transactional write command at apply time and stages its changes in the round.
    func applyTxn(_ request: TxnRequest, in region: Region) throws -> Response {
        // The command reads what earlier commands of this round changed: seal them into a layer first.
        sealRound()
        let layers = working.layers
        let outcome = try environment.read { txn in
            try TxnExecutor(snapshot: AppliedStateReader(layers: layers, txn: txn), lower: region.startKey, upper: region.endKey)
                .execute(request)
        }
        for change in outcome.changes { roundChanges.updateValue(change.value, forKey: change.key) }
        return outcome.response
    }

    /// Answers a transactional read from the applied state.
    func answerTxnRead(_ request: TxnRequest, from reader: AppliedStateReader) throws -> Response {
        try TxnExecutor(snapshot: reader).read(request)
    }

    /// `TSO [n]` on a standalone node, which has no kvsched: the node's own oracle, its high-water mark kept
    /// in the `meta` family. A cluster node refuses (timestamps come from kvsched alone, or two oracles
    /// would hand out the same ones).
    func answerTimestamps(count: Int) -> Response {
        guard cluster == nil else {
            return .error(ProtocolError(.notSupported, "in a cluster timestamps come from kvsched (TSO there)"))
        }
        do {
            let first = try standaloneOracle.withLock { oracle throws -> UInt64 in
                if oracle == nil {
                    let stored = try environment.read { txn in try txn.get(MetaKeys.timestampLimit, in: .meta) }
                    oracle = TimestampOracle(persistedLimit: try stored.map(MetaKeys.decodeIndex) ?? 0, window: 3000)
                }
                return try oracle!.next(count: count, now: wallClockMilliseconds()) { limit in
                    try environment.write { txn in try txn.put(MetaKeys.bigEndian(limit), for: MetaKeys.timestampLimit, in: .meta) }
                }
            }
            return .ok(["first=\(first)", "count=\(count)"])
        } catch {
            return Self.storageError(error)
        }
    }
}

extension AppliedStateReader: MvccSnapshot {
    /// The first pair in `[lower, upper)` of the applied state.
    public func first(from lower: [UInt8], below upper: [UInt8]) throws -> (key: [UInt8], value: [UInt8])? {
        let (rows, _) = try scan(ScanRequest(start: lower, end: upper, limit: 1))
        guard let row = rows.first, let value = row.value else { return nil }
        return (row.key, value)
    }
}

func wallClockMilliseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
}
