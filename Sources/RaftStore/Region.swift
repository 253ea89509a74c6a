/// A key range `[startKey, endKey)` replicated by one Raft group, with the epoch that versions its shape and
/// membership, and its peers.
public struct Region: Sendable, Hashable {
    /// The region's id, unique in the cluster.
    public var id: UInt64
    /// The first key (inclusive); empty for the start of the key space.
    public var startKey: [UInt8]
    /// The key after the last (exclusive); empty for the end of the key space.
    public var endKey: [UInt8]
    /// Bumped by membership changes (`confVersion`) and splits or merges (`version`).
    public var epoch: RegionEpoch
    /// The replicas: one per store.
    public var peers: [RegionPeer]

    /// Creates a region.
    public init(id: UInt64, startKey: [UInt8] = [], endKey: [UInt8] = [], epoch: RegionEpoch = RegionEpoch(), peers: [RegionPeer]) {
        self.id = id
        self.startKey = startKey
        self.endKey = endKey
        self.epoch = epoch
        self.peers = peers
    }

    /// Whether `key` lies in the region.
    public func contains(_ key: [UInt8]) -> Bool {
        !key.lexicographicallyPrecedes(startKey) && (endKey.isEmpty || key.lexicographicallyPrecedes(endKey))
    }

    /// The peer on a store, if any.
    public func peer(onStore storeID: UInt64) -> RegionPeer? {
        peers.first { $0.storeID == storeID }
    }
}

/// The version of a region's shape (`version`: splits, merges) and membership (`confVersion`); a request
/// made against an older epoch is refused so a client cannot act on a stale picture.
public struct RegionEpoch: Sendable, Hashable {
    /// Bumped by every membership change.
    public var confVersion: UInt64
    /// Bumped by every split or merge.
    public var version: UInt64

    /// Creates an epoch; a bootstrapped region starts at 1/1.
    public init(confVersion: UInt64 = 1, version: UInt64 = 1) {
        self.confVersion = confVersion
        self.version = version
    }
}

/// One replica of a region: its Raft peer id and the store holding it.
public struct RegionPeer: Sendable, Hashable {
    /// The Raft id of the peer, unique in the cluster.
    public var id: UInt64
    /// The store (node) holding the peer.
    public var storeID: UInt64

    /// Creates a peer.
    public init(id: UInt64, storeID: UInt64) {
        self.id = id
        self.storeID = storeID
    }
}

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
        id = try r.u64()
        epoch = RegionEpoch(confVersion: try r.u64(), version: try r.u64())
        startKey = try r.lengthPrefixed()
        endKey = try r.lengthPrefixed()
        let count = try r.count(minimumSize: 16)
        peers = try (0..<count).map { _ in RegionPeer(id: try r.u64(), storeID: try r.u64()) }
        try r.finish()
    }
}
