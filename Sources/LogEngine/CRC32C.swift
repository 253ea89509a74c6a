/// CRC-32C (Castagnoli), the checksum of every log record: the polynomial iSCSI, ext4 and RocksDB use, with
/// better error detection than zlib's CRC-32 for the same cost.
///
/// Table-driven, eight bytes per step ("slicing-by-8"): about 1–2 GB/s in a release build, far above what one
/// round of the store loop writes.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `crc` (pass a previous result to checksum data in pieces).
    ///
    /// - Parameters:
    ///   - bytes: The data.
    ///   - crc: The checksum of what came before, or 0 to start.
    /// - Returns: The checksum.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        var i = 0
        let count = bytes.count
        let tables = Self.tables
        tables.withUnsafeBufferPointer { t in
            while count - i >= 8 {
                let low = UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                    | UInt32(bytes[i + 3]) << 24
                let word = c ^ low
                c = t[7 * 256 + Int(word & 0xFF)] ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((word >> 16) & 0xFF)] ^ t[4 * 256 + Int(word >> 24)]
                    ^ t[3 * 256 + Int(bytes[i + 4])] ^ t[2 * 256 + Int(bytes[i + 5])]
                    ^ t[1 * 256 + Int(bytes[i + 6])] ^ t[Int(bytes[i + 7])]
                i += 8
            }
            while i < count {
                c = t[Int((c ^ UInt32(bytes[i])) & 0xFF)] ^ (c >> 8)
                i += 1
            }
        }
        return ~c
    }

    /// The checksum of a byte array.
    ///
    /// - Parameters:
    ///   - bytes: The data.
    ///   - crc: The checksum of what came before, or 0 to start.
    /// - Returns: The checksum.
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// Eight 256-entry tables: table 0 is the classic byte-at-a-time table of the reflected polynomial
    /// 0x82F63B78; table k advances a byte through k more zero bytes.
    private static let tables: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x82F6_3B78 : c >> 1 }
            t[n] = c
        }
        for n in 0..<256 {
            var c = t[n]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + n] = c
            }
        }
        return t
    }()
}
