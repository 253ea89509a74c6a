import KVProtocol
import Txn

/// The payload of a Raft entry that changes data: the region it was proposed to (with the epoch the
/// proposer saw) and the writes, applied in order.
///
/// ```
/// u8 version (1) | u64 region id | u64 conf version | u64 version | u32 count | operation*
/// operation = u8 kind (1 put, 2 delete, 3 transactional) | u32 n | key (n bytes) | [u32 m | value (m bytes), for a put]
/// ```
///
/// A transactional command's "key" is its request line (`PREWRITE ...`): it runs at apply time on every
/// replica, against the state the log built so far.
public struct WriteCommand: Sendable, Equatable {
    /// One change to the data.
    public enum Operation: Sendable, Equatable {
        /// Store a value under a key.
        case put(key: [UInt8], value: [UInt8])
        /// Remove a key.
        case delete(key: [UInt8])
        /// A transactional write command (`PREWRITE`, `COMMIT`, `ROLLBACK`, `CHECK_TXN`, `RESOLVE`).
        case txn(TxnRequest)

        /// The stored keys that decide which region it belongs to: the key, or where each user key of a
        /// transactional command starts its records.
        public var keys: [[UInt8]] {
            switch self {
            case .put(let key, _), .delete(let key): [key]
            case .txn(let request): request.keys.map(TxnKeys.base)
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
        case .txn(let request): 5 + request.lineLengthBound  // not encoded twice: a bound will do
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
            case .txn(let request):
                w.u8(3)
                w.lengthPrefixed { request.append(to: &$0) }
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
                case 3:
                    let line = try r.lengthPrefixed()
                    guard case .txn(let request) = try? Request.parse(line[...]) else {
                        throw DecodingError(description: "write command: undecodable transactional command")
                    }
                    operations.append(.txn(request))
                case let kind: throw DecodingError(description: "write command: unknown operation \(kind)")
                }
            }
            try r.finish()
        } catch let error as DecodingError {
            throw RaftStoreError(.corrupt, error.description)
        }
    }
}
