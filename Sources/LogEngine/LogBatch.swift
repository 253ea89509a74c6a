import Raft

/// Records to make durable together: ``LogEngine/write(_:)`` writes them with one `write` and one
/// `fdatasync` (more only for batches over ``LogFormat/batchTargetBytes``), and a crash keeps all of a batch
/// or none of it.
///
/// Order matters within a batch as in the log: put a region's entries before the hard state that commits
/// them.
///
/// ```swift
/// var batch = LogBatch()
/// batch.append(region: 1, entries: ready.entries)
/// if let state = ready.hardState { batch.setHardState(region: 1, state) }
/// try log.write(batch)
/// ```
public struct LogBatch: Sendable {
    /// The records, in the order they are written.
    public private(set) var records: [LogRecord] = []

    /// An empty batch.
    public init() {}

    /// Whether the batch holds no record.
    public var isEmpty: Bool { records.isEmpty }

    /// Appends a region's entries; the first one replaces any stored entries from its index on.
    ///
    /// - Parameters:
    ///   - region: The region.
    ///   - entries: Consecutive entries.
    public mutating func append(region: UInt64, entries: [Entry]) {
        for entry in entries { records.append(.entry(region: region, entry)) }
    }

    /// Records a region's hard state.
    public mutating func setHardState(region: UInt64, _ state: HardState) {
        records.append(.hardState(region: region, state))
    }

    /// Drops a region's entries up to `index`, whose effects the state machine holds durably.
    ///
    /// - Parameters:
    ///   - region: The region.
    ///   - index: The last index to drop.
    ///   - term: The term of the entry at `index` (Raft asks for the term just before the first index).
    public mutating func compact(region: UInt64, upTo index: UInt64, term: UInt64) {
        records.append(.compact(region: region, index: index, term: term))
    }

    /// Drops all of a region's entries: the log restarts after a snapshot at `index`.
    ///
    /// - Parameters:
    ///   - region: The region.
    ///   - index: The snapshot's index.
    ///   - term: The snapshot's term.
    public mutating func reset(region: UInt64, index: UInt64, term: UInt64) {
        records.append(.reset(region: region, index: index, term: term))
    }

    /// Adds a record as it is.
    public mutating func add(_ record: LogRecord) {
        records.append(record)
    }
}
