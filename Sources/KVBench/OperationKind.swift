/// The kinds of operation a workload issues; each gets its own latency histogram.
public enum OperationKind: String, CaseIterable, Sendable, Hashable {
    /// Read one record and check its value.
    case read
    /// Overwrite one existing record.
    case update
    /// Write a new record.
    case insert
    /// Read a run of records in key order from an existing one, checking every value.
    case scan
    /// Read a record, then write it back changed (YCSB's read-modify-write: two requests, not atomic).
    case readModifyWrite = "rmw"
    /// Move an amount between two accounts in one optimistic transaction, retried on conflict.
    case transfer
}
