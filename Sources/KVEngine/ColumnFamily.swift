/// A named LMDB database inside the node's one environment, used like a RocksDB column family.
///
/// The set is fixed: every environment opened for writing creates all of them, so one write transaction can
/// change several atomically (Raft log appends together with applied data, for example).
public enum ColumnFamily: String, CaseIterable, Sendable {
    /// Raw key-value data, and Percolator values once transactions exist.
    case `default`
    /// Percolator locks.
    case lock
    /// Percolator commit records.
    case write
    /// Raft log entries and hard state, per region.
    case raft
    /// Region local state, applied state, store identity.
    case meta

    /// The position of the column family in ``allCases``, used to index handle tables.
    var index: Int {
        switch self {
        case .default: 0
        case .lock: 1
        case .write: 2
        case .raft: 3
        case .meta: 4
        }
    }
}
