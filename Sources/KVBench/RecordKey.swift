import KVProtocol

/// The keys a benchmark writes: YCSB's `user<hash>` record keys and `acct<n>` accounts for transfers.
///
/// Record numbers are hashed as YCSB does by default (`insertorder=hashed`), so inserts land all over the key
/// space instead of appending at its end. Both families share no prefix with each other.
public enum RecordKey {
    /// The prefix of every record key.
    public static let recordPrefix: [UInt8] = Array("user".utf8)
    /// The prefix of every account key.
    public static let accountPrefix: [UInt8] = Array("acct".utf8)
    /// The longest record key: the prefix and up to 19 digits.
    public static let maxRecordKeyLength = recordPrefix.count + 19

    /// The key of record `number`.
    public static func record(_ number: Int) -> [UInt8] {
        recordPrefix + Array(String(YCSBHash.fnv64(UInt64(number))).utf8)
    }

    /// The key of account `number`, zero-padded so accounts sort by number.
    public static func account(_ number: Int) -> [UInt8] {
        // Byte by byte, not through Strings: a transfer names two accounts (this was ~1 µs of kvbench per transfer).
        var digits: [UInt8] = []
        ProtocolToken.appendDecimal(UInt64(number.magnitude), to: &digits)
        if number < 0 { digits.insert(0x2D, at: 0) }
        var key = accountPrefix
        key.reserveCapacity(accountPrefix.count + max(10, digits.count))
        key.append(contentsOf: repeatElement(0x30, count: max(0, 10 - digits.count)))
        key.append(contentsOf: digits)
        return key
    }

    /// The first key after every record key (the exclusive end of a scan over the records).
    public static let recordRangeEnd: [UInt8] = Array("uses".utf8)
}
