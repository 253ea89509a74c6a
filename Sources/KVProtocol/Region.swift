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

// MARK: - Protocol fields

extension Region {
    /// The region as protocol fields: `id= start= end= conf_ver= version= peers=PEER:STORE,...`.
    public var fields: ProtocolFields {
        var fields = ProtocolFields()
        fields.append("id", id)
        fields.append("start", bytes: startKey)
        fields.append("end", bytes: endKey)
        fields.append("conf_ver", epoch.confVersion)
        fields.append("version", epoch.version)
        fields.append("peers", peers.map { "\($0.id):\($0.storeID)" }.joined(separator: ","))
        return fields
    }

    /// Reads a region from the fields of ``fields``.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when a field is missing or malformed.
    public init(fields: ProtocolFields) throws(ProtocolError) {
        let peersText = try fields.text("peers")
        var peers: [RegionPeer] = []
        for item in peersText.split(separator: ",") {
            let parts = item.split(separator: ":")
            guard parts.count == 2, let peer = UInt64(parts[0]), let store = UInt64(parts[1]) else {
                throw ProtocolError(.badArgument, "peers= must be PEER:STORE pairs separated by commas")
            }
            peers.append(RegionPeer(id: peer, storeID: store))
        }
        self.init(
            id: try fields.number("id"), startKey: try fields.bytes("start"), endKey: try fields.bytes("end"),
            epoch: RegionEpoch(confVersion: try fields.number("conf_ver"), version: try fields.number("version")),
            peers: peers)
    }
}

extension RegionEpoch {
    /// Whether this epoch is older than `other` in either counter: a picture of the region that `other`
    /// has superseded.
    public func isStale(comparedTo other: RegionEpoch) -> Bool {
        confVersion < other.confVersion || version < other.version
    }
}
