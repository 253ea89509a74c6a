/// The hash YCSB uses to scatter record numbers (`Utils.fnvhash64`): FNV-1 over the value's 8 bytes,
/// little end first, made non-negative.
public enum YCSBHash {
    /// FNV-64 of `value`, as YCSB computes it (the absolute value of the signed result).
    ///
    /// - Parameter value: A record number or a zipfian rank.
    /// - Returns: The hash, below 2^63 (YCSB's `Math.abs`).
    public static func fnv64(_ value: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        var rest = value
        for _ in 0..<8 {
            hash ^= rest & 0xFF
            hash = hash &* 1_099_511_628_211
            rest >>= 8
        }
        return Int64(bitPattern: hash).magnitude & 0x7FFF_FFFF_FFFF_FFFF
    }
}
