/// How `kvsched` places replicas and judges stores. Validated by ``validate()`` before the scheduler starts.
public struct SchedulerOptions: Sendable {
    /// Replicas each region should have, on distinct stores.
    public var maxReplicas = 3
    /// A store that has not sent a heartbeat for this long is shown as disconnected (milliseconds).
    public var storeDisconnectTime: UInt64 = 20_000
    /// A store silent for this long is down: its peers count as lost and are replaced elsewhere (milliseconds).
    public var maxStoreDownTime: UInt64 = 30 * 60_000
    /// An operator not finished within this long is dropped, so a new one can be chosen (milliseconds).
    public var operatorTimeout: UInt64 = 60_000
    /// How far ahead of the clock the timestamp oracle persists its high-water mark (milliseconds); a restart
    /// starts above it, so no timestamp is handed out twice.
    public var timestampWindow: UInt64 = 3_000
    /// How many ids the allocator reserves per durable write.
    public var idBatch: UInt64 = 1_000
    /// Operators each balance scheduler may have running at once.
    public var balanceOperatorLimit = 4
    /// MVCC versions are kept this long (milliseconds): the GC safe point follows the clock this far behind
    /// (0: only `SET_GC_SAFE_POINT` moves it). A transaction must not run longer.
    public var gcLifetime: UInt64 = 10 * 60_000

    /// Defaults: 3 replicas, disconnected after 20 s, down after 30 min, operators time out after 60 s.
    public init() {}

    /// Checks the options against each other.
    ///
    /// - Throws: ``SchedulerError`` with code ``SchedulerError/Code/badOptions`` naming the option.
    public func validate() throws(SchedulerError) {
        guard (1...7).contains(maxReplicas) else {
            throw SchedulerError(.badOptions, "max replicas must be 1...7, got \(maxReplicas)")
        }
        guard storeDisconnectTime >= 1_000 else {
            throw SchedulerError(.badOptions, "store disconnect time must be at least 1s, got \(storeDisconnectTime)ms")
        }
        guard maxStoreDownTime >= storeDisconnectTime else {
            throw SchedulerError(
                .badOptions,
                "max store down time (\(maxStoreDownTime)ms) must not be shorter than the store disconnect time (\(storeDisconnectTime)ms)")
        }
        guard operatorTimeout >= 1_000 else {
            throw SchedulerError(.badOptions, "operator timeout must be at least 1s, got \(operatorTimeout)ms")
        }
        guard balanceOperatorLimit >= 1 else {
            throw SchedulerError(.badOptions, "balance operator limit must be at least 1, got \(balanceOperatorLimit)")
        }
        guard timestampWindow >= 50 else {
            throw SchedulerError(.badOptions, "timestamp window must be at least 50ms, got \(timestampWindow)ms")
        }
    }
}
