// Big-endian integers in byte arrays, for the log's record and segment formats.

extension Array where Element == UInt8 {
    mutating func appendBigEndian(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    mutating func appendBigEndian(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func storeBigEndian(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * i)) }
    }
}

extension UnsafeRawBufferPointer {
    func bigEndianUInt64(at offset: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<8 { value = value << 8 | UInt64(self[offset + i]) }
        return value
    }

    func bigEndianUInt32(at offset: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(self[offset + i]) }
        return value
    }

    /// Whether every byte of `range` is zero (eight bytes at a time where alignment allows).
    func isZero(_ range: Range<Int>) -> Bool {
        var i = range.lowerBound
        while i < range.upperBound && (Int(bitPattern: baseAddress!) + i) % 8 != 0 {
            if self[i] != 0 { return false }
            i += 1
        }
        while range.upperBound - i >= 8 {
            if load(fromByteOffset: i, as: UInt64.self) != 0 { return false }
            i += 8
        }
        while i < range.upperBound {
            if self[i] != 0 { return false }
            i += 1
        }
        return true
    }

    /// One past the last non-zero byte of `range`, or `range.lowerBound` when all of it is zero.
    func endOfNonZero(_ range: Range<Int>) -> Int {
        var end = range.upperBound
        while end > range.lowerBound && (Int(bitPattern: baseAddress!) + end) % 8 != 0 {
            if self[end - 1] != 0 { return end }
            end -= 1
        }
        while end - range.lowerBound >= 8 {
            if load(fromByteOffset: end - 8, as: UInt64.self) != 0 { break }
            end -= 8
        }
        while end > range.lowerBound {
            if self[end - 1] != 0 { return end }
            end -= 1
        }
        return end
    }
}
