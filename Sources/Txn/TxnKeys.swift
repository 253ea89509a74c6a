import KVProtocol

/// Where transactional data lives in the store's one ordered key space.
///
/// Raw keys are stored as they are and must not start with byte `0xFF`: every key that does belongs to the
/// transactional key space. A user key `k` of a transaction is stored under
///
/// ```
/// base(k) = 0xFF | memcomparable(k)
/// lock    = base(k) | 0x01                      the lock of a prewritten, uncommitted transaction
/// write   = base(k) | 0x02 | big-endian ~commit_ts   a commit or rollback record
/// data    = base(k) | 0x03 | big-endian ~start_ts    the value a transaction wrote
/// ```
///
/// `memcomparable` cuts the key into groups of 8 bytes, pads the last with zeros and follows each group by
/// `0xFF − padding`; it keeps byte order and no encoded key is a prefix of another's, so every record of one
/// user key sits together, between `base(k)` and the next user key, with the lock first and newer versions
/// (inverted timestamps) before older ones. The three families (TiKV's `lock`, `write` and `default` column
/// families) are a byte after the user key rather than separate LMDB databases, so that a region's key range
/// covers all of a key's records: snapshots, splits and range deletes work on them unchanged.
public enum TxnKeys {
    /// The first byte of every transactional key; raw keys must not start with it.
    public static let prefix: UInt8 = Request.transactionalKeyPrefix
    /// The record family byte after the encoded user key.
    public enum Family: UInt8, Sendable {
        /// The lock of a prewritten transaction.
        case lock = 1
        /// A commit or rollback record, by commit timestamp.
        case write = 2
        /// A transaction's value, by start timestamp.
        case data = 3
    }

    /// The lowest key of the transactional key space.
    public static let spaceStart: [UInt8] = [prefix]

    /// `0xFF | memcomparable(key)`: where the records of `key` start; also the key that routes it to a region.
    public static func base(_ key: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(2 + (key.count / 8 + 1) * 9 + 9)
        out.append(prefix)
        var index = 0
        while true {
            let remaining = key.count - index
            let taken = min(8, remaining)
            out.append(contentsOf: key[index..<index + taken])
            for _ in taken..<8 { out.append(0) }
            out.append(0xFF - UInt8(8 - taken))
            index += taken
            if taken < 8 { break }
        }
        return out
    }

    /// The key of `key`'s lock.
    public static func lock(_ key: [UInt8]) -> [UInt8] { base(key) + [Family.lock.rawValue] }

    /// The key of `key`'s write record at `commitTS`.
    public static func write(_ key: [UInt8], commitTS: UInt64) -> [UInt8] {
        versioned(base(key), .write, commitTS)
    }

    /// The key of the value `key` got from the transaction that started at `startTS`.
    public static func data(_ key: [UInt8], startTS: UInt64) -> [UInt8] {
        versioned(base(key), .data, startTS)
    }

    /// The first key past every record of `key` (where the next user key's records may start).
    public static func end(_ key: [UInt8]) -> [UInt8] { base(key) + [Family.data.rawValue + 1] }

    /// `base | family | ~ts` (big-endian), so newer timestamps sort first.
    static func versioned(_ base: [UInt8], _ family: Family, _ timestamp: UInt64) -> [UInt8] {
        var out = base
        out.append(family.rawValue)
        let inverted = ~timestamp
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: inverted >> UInt64(shift))) }
        return out
    }

    /// A stored transactional key taken apart.
    public struct Decoded: Sendable, Hashable {
        /// The user key.
        public var userKey: [UInt8]
        /// The record family, or nil for a bare `base(k)`.
        public var family: Family?
        /// The timestamp of a write or data record.
        public var timestamp: UInt64?

        /// Creates a decoded key.
        public init(userKey: [UInt8], family: Family?, timestamp: UInt64?) {
            self.userKey = userKey
            self.family = family
            self.timestamp = timestamp
        }
    }

    /// Takes a stored key apart; nil when it is not a well-formed transactional key.
    public static func decode(_ stored: [UInt8]) -> Decoded? {
        guard let (userKey, next) = decodeUserKey(stored) else { return nil }
        if next == stored.count { return Decoded(userKey: userKey, family: nil, timestamp: nil) }
        guard let family = Family(rawValue: stored[next]) else { return nil }
        switch family {
        case .lock:
            guard next + 1 == stored.count else { return nil }
            return Decoded(userKey: userKey, family: .lock, timestamp: nil)
        case .write, .data:
            guard next + 9 == stored.count else { return nil }
            var inverted: UInt64 = 0
            for byte in stored[(next + 1)...] { inverted = inverted << 8 | UInt64(byte) }
            return Decoded(userKey: userKey, family: family, timestamp: ~inverted)
        }
    }

    /// The length of the encoded user key (`base(k)`) that `stored` starts with; nil when it is not a
    /// well-formed transactional key. Every record of a user key shares this prefix.
    public static func baseLength(of stored: [UInt8]) -> Int? {
        guard stored.first == prefix else { return nil }
        var index = 1
        while true {
            guard index + 9 <= stored.count else { return nil }
            let marker = stored[index + 8]
            guard marker >= 0xF7 else { return nil }
            index += 9
            if marker != 0xFF { return index }
        }
    }

    /// The user key at the start of `stored` and the index just past its encoding; nil when malformed.
    static func decodeUserKey(_ stored: [UInt8]) -> ([UInt8], Int)? {
        guard stored.first == prefix else { return nil }
        var key: [UInt8] = []
        var index = 1
        while true {
            guard index + 9 <= stored.count else { return nil }
            let marker = stored[index + 8]
            guard marker >= 0xF7 else { return nil }
            let taken = 8 - Int(0xFF - marker)
            key.append(contentsOf: stored[index..<index + taken])
            index += 9
            if taken < 8 { return (key, index) }
        }
    }

    /// The user key whose records hold `boundary` or start at it; where `boundary` falls inside the encoded
    /// groups of a user key, the longest whole prefix of it (whose `base` sorts at or before every
    /// transactional key from `boundary` on); an empty key for a boundary below the transactional space.
    ///
    /// Region boundaries in the transactional space are always some `base(k)` (splits cut on user keys), so
    /// for those this is exactly `k`; the client uses it to continue a scan in the next region.
    public static func userKeyLowerBound(_ boundary: [UInt8]) -> [UInt8] {
        guard let first = boundary.first, first == prefix else { return [] }
        if let (key, _) = decodeUserKey(boundary) { return key }
        var key: [UInt8] = []
        var index = 1
        while index + 9 <= boundary.count, boundary[index + 8] == 0xFF {
            key.append(contentsOf: boundary[index..<index + 8])
            index += 9
        }
        return key
    }

    /// The split key for a key found in the middle of a region: raw keys as they are; a transactional key
    /// cut back to the start of its user key's records, so that a split never separates the versions, lock
    /// and values of one user key.
    public static func splitBoundary(_ key: [UInt8]) -> [UInt8] {
        guard key.first == prefix else { return key }
        return base(userKeyLowerBound(key))
    }
}
