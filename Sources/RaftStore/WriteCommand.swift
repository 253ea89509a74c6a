import KVProtocol
/// The payload of a Raft entry that changes data: the region it was proposed to (with the epoch the
/// proposer saw) and the writes, applied in order.
///
/// ```
/// u8 version (1) | u64 region id | u64 conf version | u64 version | u32 count | operation*
/// operation = u8 kind (1 put, 2 delete) | u32 n | key (n bytes) | [u32 m | value (m bytes), for a put]
/// ```
public struct WriteCommand: Sendable, Equatable {
    /// One change to the data.
    public enum Operation: Sendable, Equatable {
        /// Store a value under a key.
        case put(key: [UInt8], value: [UInt8])
        /// Remove a key.
        case delete(key: [UInt8])

        /// The key it changes.
        public var key: [UInt8] {
            switch self {
            case .put(let key, _), .delete(let key): key
            }
        }
    }

    /// The region it was proposed to.
    public var regionID: UInt64
    /// The epoch the proposer saw.
    public var epoch: RegionEpoch
    /// The changes, in order.
    public var operations: [Operation]

    /// Creates a command.
    public init(regionID: UInt64, epoch: RegionEpoch, operations: [Operation]) {
        self.regionID = regionID
        self.epoch = epoch
        self.operations = operations
    }

    static let version: UInt8 = 1

    /// The encoded size of an operation, to cut large submissions into several entries.
    static func encodedSize(_ operation: Operation) -> Int {
        switch operation {
        case .put(let key, let value): 9 + key.count + value.count
        case .delete(let key): 5 + key.count
        }
    }

    /// The entry payload.
    public func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 29 + operations.reduce(0) { $0 + Self.encodedSize($1) })
        w.u8(Self.version)
        w.u64(regionID)
        w.u64(epoch.confVersion)
        w.u64(epoch.version)
        w.u32(UInt32(operations.count))
        for operation in operations {
            switch operation {
            case .put(let key, let value):
                w.u8(1)
                w.lengthPrefixed(key)
                w.lengthPrefixed(value)
            case .delete(let key):
                w.u8(2)
                w.lengthPrefixed(key)
            }
        }
        return w.bytes
    }

    /// Decodes an entry payload written by ``encoded()``.
    ///
    /// - Throws: ``RaftStoreError`` with code ``RaftStoreError/Code/corrupt`` for bytes that do not decode.
    public init(decoding bytes: [UInt8]) throws {
        do {
            var r = BinaryReader(bytes, what: "write command")
            let version = try r.u8()
            guard version == Self.version else {
                throw DecodingError(description: "write command of format \(version), this build reads \(Self.version)")
            }
            regionID = try r.u64()
            epoch = RegionEpoch(confVersion: try r.u64(), version: try r.u64())
            let count = try r.count(minimumSize: 5)
            operations = []
            operations.reserveCapacity(count)
            for _ in 0..<count {
                switch try r.u8() {
                case 1: operations.append(.put(key: try r.lengthPrefixed(), value: try r.lengthPrefixed()))
                case 2: operations.append(.delete(key: try r.lengthPrefixed()))
                case let kind: throw DecodingError(description: "write command: unknown operation \(kind)")
                }
            }
            try r.finish()
        } catch let error as DecodingError {
            throw RaftStoreError(.corrupt, error.description)
        }
    }
}
