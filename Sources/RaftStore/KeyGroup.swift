import Txn

#if canImport(Glibc)
import Glibc
#endif

/// The group a stored key belongs to, for the layers' filters: every record of one user key (its lock, write
/// and data records) for a transactional key — the encoded user key they all start with — else the key
/// itself. A read within one group (a point read, or an MVCC seek between two records of one user key)
/// consults only the layers whose filter holds its group.
enum KeyGroup {
    /// The length of the prefix of `key` that names its group.
    static func length(of key: [UInt8]) -> Int {
        TxnKeys.baseLength(of: key) ?? key.count
    }

    /// FNV-1a (64-bit) of `key`'s group, then mixed so that both 32-bit halves serve as filter probes.
    static func hash(_ key: [UInt8]) -> UInt64 {
        hash(key, length: length(of: key))
    }

    /// The group hash of a range `[lower, upper)` when every key in it lies in `lower`'s group — a
    /// transactional `lower`, and `upper` starting with the same encoded user key — else nil.
    static func hash(within lower: [UInt8], _ upper: [UInt8]) -> UInt64? {
        // Raw keys are groups of their own: a range of them spans several.
        guard let length = TxnKeys.baseLength(of: lower), upper.count >= length,
            lower.withUnsafeBytes({ a in upper.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, length) == 0 } })
        else { return nil }
        // A key k with lower <= k < upper, both starting with the user key's bytes, starts with them too; and
        // since they are a whole encoded user key, they are k's group.
        return hash(lower, length: length)
    }

    private static func hash(_ key: [UInt8], length: Int) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        key.withUnsafeBufferPointer { bytes in
            for i in 0..<length {
                hash ^= UInt64(bytes[i])
                hash = hash &* 0x100_0000_01b3
            }
        }
        // A final mix (from SplitMix64), since FNV's low bits are weak for short keys.
        hash = (hash ^ (hash >> 30)) &* 0xbf58_476d_1ce4_e5b9
        hash = (hash ^ (hash >> 27)) &* 0x94d0_49bb_1331_11eb
        return hash ^ (hash >> 31)
    }
}
