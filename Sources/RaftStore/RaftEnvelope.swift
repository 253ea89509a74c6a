import KVProtocol
import Raft

/// A Raft message between two peers of a region on different stores, with the region as the sender knows it
/// (so a store that has no peer of the region yet can create one on first contact).
struct RaftEnvelope: Sendable {
    /// The region, as the sender sees it.
    var region: Region
    /// The sending peer.
    var from: RegionPeer
    /// The receiving peer.
    var to: RegionPeer
    /// The message.
    var message: Message

    /// Encodes a batch of envelopes for one `RAFT` transfer.
    static func encode(_ envelopes: [RaftEnvelope]) -> [UInt8] {
        var w = BinaryWriter(capacity: 256 * envelopes.count)
        w.u32(UInt32(envelopes.count))
        for envelope in envelopes {
            w.lengthPrefixed(envelope.region.encoded())
            w.u64(envelope.from.id)
            w.u64(envelope.from.storeID)
            w.u64(envelope.to.id)
            w.u64(envelope.to.storeID)
            w.lengthPrefixed(envelope.message.encode())
        }
        return w.bytes
    }

    /// Decodes ``encode(_:)``.
    ///
    /// - Throws: ``DecodingError`` for short or garbled input.
    static func decode(_ bytes: [UInt8]) throws -> [RaftEnvelope] {
        var r = BinaryReader(bytes, what: "raft message batch")
        let count = try r.count(minimumSize: 40)
        var envelopes: [RaftEnvelope] = []
        envelopes.reserveCapacity(count)
        for _ in 0..<count {
            let region = try Region(decoding: try r.lengthPrefixed())
            let from = RegionPeer(id: try r.u64(), storeID: try r.u64())
            let to = RegionPeer(id: try r.u64(), storeID: try r.u64())
            let message: Message
            do {
                message = try Message(decoding: try r.lengthPrefixed())
            } catch {
                throw DecodingError(description: "raft message: \(error)")
            }
            envelopes.append(RaftEnvelope(region: region, from: from, to: to, message: message))
        }
        try r.finish()
        return envelopes
    }
}

/// What a region snapshot's data holds: the region, and every key-value pair of its range at the snapshot's
/// index.
struct RegionSnapshotData {
    var region: Region
    var pairs: [(key: [UInt8], value: [UInt8])]

    static let formatVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + pairs.reduce(0) { $0 + 8 + $1.key.count + $1.value.count })
        w.u8(Self.formatVersion)
        w.lengthPrefixed(region.encoded())
        w.u32(UInt32(pairs.count))
        for pair in pairs {
            w.lengthPrefixed(pair.key)
            w.lengthPrefixed(pair.value)
        }
        return w.bytes
    }

    init(region: Region, pairs: [(key: [UInt8], value: [UInt8])]) {
        self.region = region
        self.pairs = pairs
    }

    init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes, what: "region snapshot")
        let version = try r.u8()
        guard version == Self.formatVersion else {
            throw DecodingError(description: "region snapshot of format \(version), this build reads \(Self.formatVersion)")
        }
        region = try Region(decoding: try r.lengthPrefixed())
        let count = try r.count(minimumSize: 8)
        pairs = []
        pairs.reserveCapacity(count)
        for _ in 0..<count { pairs.append((try r.lengthPrefixed(), try r.lengthPrefixed())) }
        try r.finish()
    }
}
