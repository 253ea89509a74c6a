/// A single-step membership change: add or remove one voter.
///
/// Proposed with ``RaftNode/proposeConfChange(_:)``, carried in a ``EntryKind/confChange`` entry (encoded with
/// ``encode()``), and made effective when the caller applies the committed entry and calls
/// ``RaftNode/applyConfChange(_:)``. Only one change may be pending at a time, which keeps every two
/// consecutive configurations' majorities overlapping (thesis §4.1).
public struct ConfChange {
    /// Add or remove.
    public var kind: ConfChangeKind
    /// The node added or removed.
    public var nodeID: UInt64
    /// Opaque bytes for the application, carried in the entry (e.g. where the new node lives); Raft ignores them.
    public var context: [UInt8]

    /// Creates a change.
    ///
    /// - Parameters:
    ///   - kind: add or remove.
    ///   - nodeID: the node concerned.
    ///   - context: bytes for the application, empty by default.
    public init(kind: ConfChangeKind, nodeID: UInt64, context: [UInt8] = []) {
        self.kind = kind
        self.nodeID = nodeID
        self.context = context
    }

    /// Encodes the change as 9 bytes — the kind, then the node id big-endian — followed by the context.
    ///
    /// - Returns: the bytes to store in an entry.
    public func encode() -> [UInt8] {
        var out: [UInt8] = [kind.rawValue]
        for shift in stride(from: 56, through: 0, by: -8) {
            out.append(UInt8(truncatingIfNeeded: nodeID >> UInt64(shift)))
        }
        return out + context
    }

    /// Decodes a change written by ``encode()``.
    ///
    /// - Parameter bytes: the entry data.
    /// - Throws: ``RaftError/malformedConfChange`` if there are fewer than 9 bytes or the kind is unknown.
    public init(decoding bytes: [UInt8]) throws(RaftError) {
        guard bytes.count >= 9, let kind = ConfChangeKind(rawValue: bytes[0]) else {
            throw RaftError.malformedConfChange
        }
        var id: UInt64 = 0
        for byte in bytes[1..<9] {
            id = id << 8 | UInt64(byte)
        }
        self.init(kind: kind, nodeID: id, context: Array(bytes[9...]))
    }
}

// MARK: - Equatable

extension ConfChange: Equatable {}

// MARK: - Sendable

extension ConfChange: Sendable {}
