/// One entry of the replicated log.
///
/// An entry is identified by its `index`; two entries with the same index and term are identical
/// (the Log Matching property).
public struct Entry {
    /// Term of the leader that created the entry.
    public var term: UInt64
    /// Position in the log, starting at 1.
    public var index: UInt64
    /// Whether `data` is application data or a configuration change.
    public var kind: EntryKind
    /// Opaque payload.
    public var data: [UInt8]

    /// Creates an entry.
    ///
    /// - Parameters:
    ///   - term: term of the leader that created it.
    ///   - index: its log position.
    ///   - kind: normal data or a configuration change.
    ///   - data: the payload.
    public init(term: UInt64, index: UInt64, kind: EntryKind = .normal, data: [UInt8] = []) {
        self.term = term
        self.index = index
        self.kind = kind
        self.data = data
    }

    /// Size used for flow control: the payload plus a fixed allowance for the header, so that even empty
    /// entries count against `RaftConfig.maxSizePerMessage`.
    public var byteSize: Int { data.count + 16 }
}

// MARK: - Equatable

extension Entry: Equatable {}

// MARK: - Sendable

extension Entry: Sendable {}
