import KVProtocol

/// What a prewritten or committed transaction does to a key (the protocol's `PUT`, `DEL`, `LOCK`).
public typealias MutationKind = TxnMutation.Kind

/// The lock a prewrite leaves on a key until the transaction commits or rolls back.
///
/// ```
/// u8 kind | u64 start_ts | u64 ttl_ms | u32 n | primary (n bytes)
/// ```
public struct LockRecord: Sendable, Hashable {
    /// What the transaction does to the key.
    public var kind: MutationKind
    /// The transaction's start timestamp: its identity.
    public var startTS: UInt64
    /// Milliseconds after the start timestamp's physical time during which the lock is not yet abandoned.
    public var ttl: UInt64
    /// The transaction's primary key, whose state decides the transaction's.
    public var primary: [UInt8]

    /// Creates a lock.
    public init(kind: MutationKind, startTS: UInt64, ttl: UInt64, primary: [UInt8]) {
        self.kind = kind
        self.startTS = startTS
        self.ttl = ttl
        self.primary = primary
    }

    /// The stored form.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [kind.rawValue]
        out.reserveCapacity(21 + primary.count)
        appendBigEndian(startTS, to: &out)
        appendBigEndian(ttl, to: &out)
        appendBigEndian(UInt32(primary.count), to: &out)
        out.append(contentsOf: primary)
        return out
    }

    /// Decodes the stored form.
    ///
    /// - Throws: ``TxnCorruption`` when the bytes are not a lock.
    public init(decoding bytes: [UInt8]) throws(TxnCorruption) {
        guard bytes.count >= 21, let kind = MutationKind(rawValue: bytes[0]) else { throw TxnCorruption("lock record of \(bytes.count) bytes") }
        let length = Int(readBigEndian(bytes, at: 17, width: 4))
        guard bytes.count == 21 + length else { throw TxnCorruption("lock record of \(bytes.count) bytes, primary of \(length)") }
        self.kind = kind
        startTS = readBigEndian(bytes, at: 1, width: 8)
        ttl = readBigEndian(bytes, at: 9, width: 8)
        primary = Array(bytes[21...])
    }
}

/// A commit or rollback record, stored under the key's commit timestamp (a rollback under its start
/// timestamp).
///
/// ```
/// u8 kind (1 put, 2 delete, 3 lock, 4 rollback) | u64 start_ts
/// ```
public struct WriteRecord: Sendable, Hashable {
    /// What the record says.
    public enum Kind: UInt8, Sendable, Hashable {
        /// A value, stored as the data record at `startTS`.
        case put = 1
        /// The key was deleted.
        case delete = 2
        /// The transaction only locked the key.
        case lock = 3
        /// The transaction was rolled back: a prewrite with this start timestamp must never succeed.
        case rollback = 4
    }

    /// What the record says.
    public var kind: Kind
    /// The start timestamp of the transaction it records.
    public var startTS: UInt64
    /// A put's value kept inside the record (TiKV's "short value"), so that reading it takes no second
    /// lookup and committing it stores one record less; nil when the value is the data record at `startTS`.
    /// One-phase commits keep values up to ``maxShortValue`` bytes here.
    public var shortValue: [UInt8]?

    /// The longest value kept inside a write record.
    public static let maxShortValue = 255

    /// Creates a record.
    public init(kind: Kind, startTS: UInt64, shortValue: [UInt8]? = nil) {
        self.kind = kind
        self.startTS = startTS
        self.shortValue = shortValue
    }

    /// The record a commit writes for a lock of `kind`.
    public init(committing kind: MutationKind, startTS: UInt64, shortValue: [UInt8]? = nil) {
        self.kind = switch kind {
        case .put: .put
        case .delete: .delete
        case .lock: .lock
        }
        self.startTS = startTS
        self.shortValue = shortValue
    }

    /// Marks a short value after the start timestamp (so that an empty one differs from none).
    private static let shortValueTag: UInt8 = 0x76

    /// The stored form: kind, start timestamp, then (`v`, short value) when there is one.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = [kind.rawValue]
        out.reserveCapacity(10 + (shortValue?.count ?? 0))
        appendBigEndian(startTS, to: &out)
        if let shortValue {
            out.append(Self.shortValueTag)
            out.append(contentsOf: shortValue)
        }
        return out
    }

    /// Decodes the stored form.
    ///
    /// - Throws: ``TxnCorruption`` when the bytes are not a write record.
    public init(decoding bytes: [UInt8]) throws(TxnCorruption) {
        guard bytes.count >= 9, let kind = Kind(rawValue: bytes[0]), bytes.count == 9 || bytes[9] == Self.shortValueTag,
            bytes.count == 9 || kind == .put
        else {
            throw TxnCorruption("write record of \(bytes.count) bytes")
        }
        self.kind = kind
        startTS = readBigEndian(bytes, at: 1, width: 8)
        shortValue = bytes.count > 9 ? Array(bytes[10...]) : nil
    }
}

/// Stored transactional data that does not decode: a bug or a damaged data directory.
public struct TxnCorruption: Error, Sendable, CustomStringConvertible {
    /// What did not decode.
    public let description: String

    init(_ description: String) { self.description = description }
}

func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
    for shift in stride(from: T.bitWidth - 8, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: value >> shift)) }
}

func readBigEndian(_ bytes: [UInt8], at offset: Int, width: Int) -> UInt64 {
    var value: UInt64 = 0
    for byte in bytes[offset..<offset + width] { value = value << 8 | UInt64(byte) }
    return value
}
