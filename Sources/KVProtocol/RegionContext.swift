/// The region a client believes a request's key lives in, and that region's epoch: `@ID:CONF_VER:VERSION`
/// before the verb (`@2:3:1 GET k`). A node checks it and refuses a request made against a stale picture
/// (`EPOCH_NOT_MATCH` with the current region), a region it does not have (`REGION_NOT_FOUND`), or a key
/// outside the region (`KEY_NOT_IN_REGION`). Requests without one are routed by key on the node.
public struct RegionContext: Sendable, Hashable {
    /// The region's id.
    public var regionID: UInt64
    /// The epoch the client knows.
    public var epoch: RegionEpoch

    /// Creates a context.
    public init(regionID: UInt64, epoch: RegionEpoch) {
        self.regionID = regionID
        self.epoch = epoch
    }

    /// The context of a region as the client knows it.
    public init(_ region: Region) {
        self.init(regionID: region.id, epoch: region.epoch)
    }

    /// The token form, `@ID:CONF_VER:VERSION`.
    public var token: String { "@\(regionID):\(epoch.confVersion):\(epoch.version)" }

    /// Parses the token form.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when it is not `@ID:CONF_VER:VERSION`.
    public init(parsing token: ArraySlice<UInt8>) throws(ProtocolError) {
        let parts = token.dropFirst().split(separator: 0x3A, omittingEmptySubsequences: false)
        let numbers = parts.compactMap { UInt64(String(decoding: $0, as: UTF8.self)) }
        guard token.first == 0x40, parts.count == 3, numbers.count == 3 else {
            throw ProtocolError(.badArgument, "a region context is @REGION:CONF_VER:VERSION")
        }
        self.init(regionID: numbers[0], epoch: RegionEpoch(confVersion: numbers[1], version: numbers[2]))
    }

    /// The explanation after the regions of an `EPOCH_NOT_MATCH` refusing this context.
    public var staleText: String { "the request's epoch \(epoch.confVersion)/\(epoch.version) is not the region's" }

    /// Checks the context against the region a node holds, and `key` against its range.
    ///
    /// - Returns: nil when the request may go ahead, else the error to answer.
    public func mismatch(with region: Region, key: [UInt8]?) -> ProtocolError? {
        if epoch != region.epoch {
            return ProtocolError(.epochNotMatch, region.fields.words.joined(separator: " ") + " " + staleText)
        }
        if let key, !region.contains(key) {
            return ProtocolError(.keyNotInRegion, "the key is outside region \(region.id)")
        }
        return nil
    }
}
