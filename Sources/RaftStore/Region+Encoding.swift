import KVProtocol

// MARK: - Encoding

extension Region {
    static let encodingVersion: UInt8 = 1

    /// The bytes kept in the meta column family.
    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + startKey.count + endKey.count + 16 * peers.count)
        w.u8(Self.encodingVersion)
        w.u64(id)
        w.u64(epoch.confVersion)
        w.u64(epoch.version)
        w.lengthPrefixed(startKey)
        w.lengthPrefixed(endKey)
        w.u32(UInt32(peers.count))
        for peer in peers {
            w.u64(peer.id)
            w.u64(peer.storeID)
        }
        return w.bytes
    }

    /// Decodes ``encoded()``.
    init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes, what: "region state")
        let version = try r.u8()
        guard version == Self.encodingVersion else {
            throw DecodingError(description: "region state of format \(version), this build reads \(Self.encodingVersion)")
        }
        let id = try r.u64()
        let epoch = RegionEpoch(confVersion: try r.u64(), version: try r.u64())
        let startKey = try r.lengthPrefixed()
        let endKey = try r.lengthPrefixed()
        let count = try r.count(minimumSize: 16)
        let peers = try (0..<count).map { _ in RegionPeer(id: try r.u64(), storeID: try r.u64()) }
        try r.finish()
        self.init(id: id, startKey: startKey, endKey: endKey, epoch: epoch, peers: peers)
    }
}
