#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-wise key order (LMDB's default order), with `memcmp`: the generic `lexicographicallyPrecedes` walks
/// element by element and showed up in profiles of the layered reads, which compare keys many times per
/// lookup.
public enum ByteOrder {
    /// Negative, zero or positive as `lhs` sorts before, equal to or after `rhs`.
    @inlinable
    public static func compare(_ lhs: [UInt8], _ rhs: [UInt8]) -> Int {
        lhs.withUnsafeBytes { a in rhs.withUnsafeBytes { b in compare(a, b) } }
    }

    /// ``compare(_:_:)-([UInt8],[UInt8])`` of bytes in place (a key LMDB hands out, say).
    @inlinable
    public static func compare(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Int {
        let common = min(lhs.count, rhs.count)
        if common > 0 {
            let order = memcmp(lhs.baseAddress!, rhs.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return lhs.count - rhs.count
    }

    /// Whether `lhs` sorts strictly before `rhs`.
    @inlinable
    public static func precedes(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        compare(lhs, rhs) < 0
    }
}
