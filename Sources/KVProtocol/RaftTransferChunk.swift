/// One piece of a batch of Raft messages sent from one store to another: `RAFT from=STORE seq=N last=0|1
/// [addr=ADDRESS] [cluster=ID] [reply=0] data=BYTES` → `OK` (nothing with `reply=0`).
///
/// A batch larger than ``maxPayload`` (a snapshot, a long catch-up) goes as consecutive chunks on one
/// connection, `seq` counting from 0 and `last=1` on the final one; the receiver joins them. A chunk with
/// `seq=0` starts a new batch, discarding any unfinished one from the same store.
public struct RaftTransferChunk: Sendable, Hashable {
    /// The sending store.
    public var fromStore: UInt64
    /// The sender's cluster (`cluster=`, 0 when not sent): a node of another cluster that took over an
    /// address is refused instead of believed.
    public var clusterID: UInt64
    /// The chunk's position in its batch, from 0.
    public var sequence: UInt64
    /// Whether this chunk completes the batch.
    public var isLast: Bool
    /// The chunk's bytes.
    public var payload: [UInt8]
    /// The sending store's address (`addr=`, on a batch's first chunk), so the receiver can answer even
    /// while the scheduler, which it would otherwise ask, is down; empty when not sent.
    public var fromAddress: String
    /// Whether the sender reads an answer (`reply=0` when not). Stores stream their Raft traffic without
    /// answers: the receiver writes none and closes the connection instead of refusing a chunk, so the
    /// sender learns of a refusal as a broken connection. Raft tolerates the loss either way.
    public var expectsReply: Bool
    /// The connection the chunk arrived on, set by the receiving server (not part of the line; 0 when
    /// unknown). A batch is reassembled from the chunks of one connection only: after a reconnect, a late
    /// chunk of the old connection must not be spliced into the new connection's batch.
    public var connection: UInt64 = 0

    /// Raw bytes per chunk: escaped, a chunk stays well inside ``ProtocolLimits/maxLineLength``.
    public static let maxPayload = 512 << 10

    /// Creates a chunk.
    public init(
        fromStore: UInt64, sequence: UInt64, isLast: Bool, payload: [UInt8], fromAddress: String = "", clusterID: UInt64 = 0,
        expectsReply: Bool = true
    ) {
        self.fromStore = fromStore
        self.clusterID = clusterID
        self.sequence = sequence
        self.isLast = isLast
        self.payload = payload
        self.fromAddress = fromAddress
        self.expectsReply = expectsReply
    }

    var fields: ProtocolFields {
        var fields = ProtocolFields()
        fields.append("from", fromStore)
        if clusterID != 0 { fields.append("cluster", clusterID) }
        fields.append("seq", sequence)
        fields.append("last", isLast ? 1 : 0)
        if !fromAddress.isEmpty { fields.append("addr", fromAddress) }
        if !expectsReply { fields.append("reply", 0) }
        fields.append("data", bytes: payload)
        return fields
    }

    init(fields: ProtocolFields) throws(ProtocolError) {
        let payload = try fields.bytes("data")
        guard payload.count <= Self.maxPayload else {
            throw ProtocolError(.badArgument, "a RAFT chunk carries at most \(Self.maxPayload) bytes")
        }
        let address = fields["addr"].map { String(decoding: $0, as: UTF8.self) } ?? ""
        guard address.utf8.count <= 256 else { throw ProtocolError(.badArgument, "addr= is at most 256 bytes") }
        self.init(
            fromStore: try fields.number("from"), sequence: try fields.number("seq"), isLast: try fields.number("last") == 1,
            payload: payload, fromAddress: address, clusterID: try fields.number("cluster", default: 0),
            expectsReply: try fields.number("reply", default: 1) != 0)
    }
}
