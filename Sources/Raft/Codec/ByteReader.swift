/// Reads big-endian fields from a byte array, failing with ``MessageDecodingError/truncated`` rather than
/// trapping when the input is short.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - position }

    mutating func u8() throws(MessageDecodingError) -> UInt8 {
        guard remaining >= 1 else { throw MessageDecodingError.truncated }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u32() throws(MessageDecodingError) -> UInt32 {
        guard remaining >= 4 else { throw MessageDecodingError.truncated }
        var value: UInt32 = 0
        for i in 0..<4 {
            value = value << 8 | UInt32(bytes[position + i])
        }
        position += 4
        return value
    }

    mutating func u64() throws(MessageDecodingError) -> UInt64 {
        guard remaining >= 8 else { throw MessageDecodingError.truncated }
        var value: UInt64 = 0
        for i in 0..<8 {
            value = value << 8 | UInt64(bytes[position + i])
        }
        position += 8
        return value
    }

    /// A u32 length followed by that many bytes.
    mutating func lengthPrefixed() throws(MessageDecodingError) -> [UInt8] {
        let count = Int(try u32())
        guard remaining >= count else { throw MessageDecodingError.truncated }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A u32 element count, checked against the bytes left so garbage cannot request a huge allocation.
    mutating func count(minimumElementSize: Int) throws(MessageDecodingError) -> Int {
        let count = Int(try u32())
        guard count <= remaining / minimumElementSize else { throw MessageDecodingError.truncated }
        return count
    }
}
