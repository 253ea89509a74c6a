import KVProtocol

/// The payload of a Raft entry that splits a region: from `splitKey` on, the keys belong to a new region on
/// the same stores, with new peer ids. Told apart from a ``WriteCommand`` by its first byte.
///
/// ```
/// u8 kind (2) | u64 region id | u64 conf version | u64 version | u32 n | split key (n bytes)
///   | u64 new region id | u32 count | (u64 parent peer id | u64 new peer id)*
/// ```
///
/// It applies only if the region's epoch is still the one the proposer saw (a membership change or another
/// split in between refuses it) and the key lies strictly inside the region; every replica decides the same,
/// since they apply the same log from the same state.
public struct SplitCommand: Sendable, Equatable {
    /// The region to split.
    public var regionID: UInt64
    /// The epoch the proposer saw.
    public var epoch: RegionEpoch
    /// The first key of the new region.
    public var splitKey: [UInt8]
    /// The new region's id.
    public var newRegionID: UInt64
    /// For each of the region's peers, the id of its peer in the new region (same store).
    public var newPeerIDs: [(parent: UInt64, child: UInt64)]

    /// Creates a command.
    public init(regionID: UInt64, epoch: RegionEpoch, splitKey: [UInt8], newRegionID: UInt64, newPeerIDs: [(parent: UInt64, child: UInt64)]) {
        self.regionID = regionID
        self.epoch = epoch
        self.splitKey = splitKey
        self.newRegionID = newRegionID
        self.newPeerIDs = newPeerIDs
    }

    /// The first byte of a split entry (a ``WriteCommand`` starts with 1).
    static let kind: UInt8 = 2

    /// Whether an entry payload is a split command.
    static func isSplit(_ payload: [UInt8]) -> Bool { payload.first == kind }

    /// The entry payload.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 45 + splitKey.count + 16 * newPeerIDs.count)
        w.u8(Self.kind)
        w.u64(regionID)
        w.u64(epoch.confVersion)
        w.u64(epoch.version)
        w.lengthPrefixed(splitKey)
        w.u64(newRegionID)
        w.u32(UInt32(newPeerIDs.count))
        for pair in newPeerIDs {
            w.u64(pair.parent)
            w.u64(pair.child)
        }
        return w.bytes
    }

    /// Decodes an entry payload written by ``encoded()``.
    ///
    /// - Throws: ``RaftStoreError`` with code ``RaftStoreError/Code/corrupt`` for bytes that do not decode.
    public init(decoding bytes: [UInt8]) throws {
        do {
            var r = BinaryReader(bytes, what: "split command")
            guard try r.u8() == Self.kind else { throw DecodingError(description: "not a split command") }
            regionID = try r.u64()
            epoch = RegionEpoch(confVersion: try r.u64(), version: try r.u64())
            splitKey = try r.lengthPrefixed()
            newRegionID = try r.u64()
            let count = try r.count(minimumSize: 16)
            newPeerIDs = try (0..<count).map { _ in (try r.u64(), try r.u64()) }
            try r.finish()
        } catch let error as DecodingError {
            throw RaftStoreError(.corrupt, error.description)
        }
    }

    public static func == (a: SplitCommand, b: SplitCommand) -> Bool {
        a.regionID == b.regionID && a.epoch == b.epoch && a.splitKey == b.splitKey && a.newRegionID == b.newRegionID
            && a.newPeerIDs.map(\.parent) == b.newPeerIDs.map(\.parent) && a.newPeerIDs.map(\.child) == b.newPeerIDs.map(\.child)
    }

    /// The two regions the split makes of `region` (the left one keeps the id), or why it does not apply.
    public func outcome(for region: Region) -> Result<(left: Region, right: Region), ProtocolError> {
        guard region.epoch == epoch else {
            return .failure(ProtocolError(
                .epochNotMatch,
                region.fields.words.joined(separator: " ")
                    + " the split was proposed at epoch \(epoch.confVersion)/\(epoch.version); the region changed since"))
        }
        guard region.startKey.lexicographicallyPrecedes(splitKey),
            region.endKey.isEmpty || splitKey.lexicographicallyPrecedes(region.endKey)
        else {
            return .failure(ProtocolError(.keyNotInRegion, "the split key is not strictly inside region \(region.id)"))
        }
        var children: [RegionPeer] = []
        for peer in region.peers {
            guard let child = newPeerIDs.first(where: { $0.parent == peer.id })?.child else {
                return .failure(ProtocolError(.epochNotMatch, "the split names no new peer for peer \(peer.id)"))
            }
            children.append(RegionPeer(id: child, storeID: peer.storeID))
        }
        var left = region
        left.endKey = splitKey
        left.epoch.version += 1
        let right = Region(
            id: newRegionID, startKey: splitKey, endKey: region.endKey,
            epoch: RegionEpoch(confVersion: region.epoch.confVersion, version: region.epoch.version + 1), peers: children)
        return .success((left, right))
    }
}
