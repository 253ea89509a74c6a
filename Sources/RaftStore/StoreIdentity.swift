/// Who a node's data directory belongs to: its cluster and its store id. Written once, at bootstrap.
public struct StoreIdentity: Sendable, Hashable {
    /// The cluster (0 for a standalone node).
    public var clusterID: UInt64
    /// This store's id in the cluster.
    public var storeID: UInt64

    /// Creates an identity.
    public init(clusterID: UInt64, storeID: UInt64) {
        self.clusterID = clusterID
        self.storeID = storeID
    }

    static let encodingVersion: UInt8 = 1

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 17)
        w.u8(Self.encodingVersion)
        w.u64(clusterID)
        w.u64(storeID)
        return w.bytes
    }

    init(decoding bytes: [UInt8]) throws {
        var r = BinaryReader(bytes, what: "store identity")
        let version = try r.u8()
        guard version == Self.encodingVersion else {
            throw DecodingError(description: "store identity of format \(version), this build reads \(Self.encodingVersion)")
        }
        clusterID = try r.u64()
        storeID = try r.u64()
        try r.finish()
    }
}
