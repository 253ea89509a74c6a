// Big-endian fields for the raftstore's persistent values (region state, commands), with decoding that
// throws instead of trapping on short or garbled input.

struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int = 64) {
        bytes.reserveCapacity(capacity)
    }

    mutating func u8(_ value: UInt8) {
        bytes.append(value)
    }

    mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func lengthPrefixed(_ data: [UInt8]) {
        u32(UInt32(data.count))
        bytes.append(contentsOf: data)
    }

    /// Appends what `body` writes, prefixed by its length (written in place, not copied from an array).
    mutating func lengthPrefixed(_ body: (inout [UInt8]) -> Void) {
        let lengthAt = bytes.count
        u32(0)
        body(&bytes)
        let length = UInt32(bytes.count - lengthAt - 4)
        for i in 0..<4 { bytes[lengthAt + i] = UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * i)) }
    }
}

/// Why stored bytes did not decode.
struct DecodingError: Error, CustomStringConvertible {
    let description: String
}

struct BinaryReader {
    private let bytes: [UInt8]
    private var position = 0
    private let what: String

    init(_ bytes: [UInt8], what: String) {
        self.bytes = bytes
        self.what = what
    }

    var isAtEnd: Bool { position == bytes.count }

    mutating func u8() throws -> UInt8 {
        guard position < bytes.count else { throw truncated() }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func u32() throws -> UInt32 {
        guard bytes.count - position >= 4 else { throw truncated() }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[position + i]) }
        position += 4
        return value
    }

    mutating func u64() throws -> UInt64 {
        guard bytes.count - position >= 8 else { throw truncated() }
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(bytes[position + i]) }
        position += 8
        return value
    }

    mutating func lengthPrefixed() throws -> [UInt8] {
        let count = Int(try u32())
        guard bytes.count - position >= count else { throw truncated() }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// A count of elements of at least `minimumSize` bytes each, checked against what is left.
    mutating func count(minimumSize: Int) throws -> Int {
        let count = Int(try u32())
        guard count <= (bytes.count - position) / max(1, minimumSize) else { throw truncated() }
        return count
    }

    func finish() throws {
        guard isAtEnd else { throw DecodingError(description: "\(what): \(bytes.count - position) unexpected trailing bytes") }
    }

    private func truncated() -> DecodingError {
        DecodingError(description: "\(what): truncated at byte \(position) of \(bytes.count)")
    }
}
