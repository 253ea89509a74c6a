/// Values that carry their own proof: each names the key it was written under and a stamp, and its filler
/// bytes are derived from both, so a read can tell a right value from a missing, truncated, foreign or
/// corrupted one.
///
/// Layout (printable ASCII, so no store pays escaping costs the others do not):
/// `<key>#<stamp, 16 hex digits>#<filler a–z>` padded to exactly the value size.
public enum RecordValue {
    /// The smallest value size that holds the longest record key, the stamp and a little filler.
    public static let minimumSize = RecordKey.maxRecordKeyLength + 18 + 6

    /// What is wrong with a value read back.
    public enum Problem: Sendable, Hashable {
        /// The size is not the configured one.
        case wrongSize(Int)
        /// It does not start with its key and a stamp.
        case foreignKey
        /// The filler does not match the key and stamp.
        case corrupted
    }

    /// The value written under `key` with a given stamp.
    ///
    /// - Parameters:
    ///   - key: The record's key.
    ///   - stamp: Any number; writers use a random one so updates change the value.
    ///   - size: The value size; at least ``minimumSize``.
    /// - Returns: Exactly `size` bytes.
    public static func make(key: [UInt8], stamp: UInt64, size: Int) -> [UInt8] {
        var value: [UInt8] = []
        value.reserveCapacity(size)
        value.append(contentsOf: key)
        value.append(0x23)
        appendHex(stamp, to: &value)
        value.append(0x23)
        var state = seed(key: key, stamp: stamp)
        while value.count < size { value.append(fillerByte(&state)) }
        if value.count > size { value.removeLast(value.count - size) }
        return value
    }

    /// Checks a value read under `key`.
    ///
    /// - Parameters:
    ///   - value: The bytes the store returned.
    ///   - key: The key they were read under.
    ///   - size: The configured value size.
    /// - Returns: `nil` when the value is right, else what is wrong.
    public static func check(_ value: [UInt8], key: [UInt8], size: Int) -> Problem? {
        guard value.count == size else { return .wrongSize(value.count) }
        let headerLength = key.count + 18
        guard value.count >= headerLength, value.starts(with: key), value[key.count] == 0x23,
              value[headerLength - 1] == 0x23, let stamp = parseHex(value[(key.count + 1)..<(headerLength - 1)])
        else { return .foreignKey }
        var state = seed(key: key, stamp: stamp)
        var index = headerLength
        while index < value.count {
            if value[index] != fillerByte(&state) { return .corrupted }
            index += 1
        }
        return nil
    }

    private static func seed(key: [UInt8], stamp: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 1_099_511_628_211
        }
        return (hash ^ stamp) | 1
    }

    private static func fillerByte(_ state: inout UInt64) -> UInt8 {
        // xorshift64: cheap, and all that matters is that the filler depends on key and stamp.
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return 0x61 + UInt8(state % 26)
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendHex(_ value: UInt64, to out: inout [UInt8]) {
        var shift: UInt64 = 60
        while true {
            out.append(hexDigits[Int((value >> shift) & 0xF)])
            if shift == 0 { break }
            shift -= 4
        }
    }

    private static func parseHex(_ digits: ArraySlice<UInt8>) -> UInt64? {
        var value: UInt64 = 0
        for digit in digits {
            switch digit {
            case 0x30...0x39: value = value << 4 | UInt64(digit - 0x30)
            case 0x61...0x66: value = value << 4 | UInt64(digit - 0x61 + 10)
            default: return nil
            }
        }
        return value
    }
}

// MARK: - CustomStringConvertible

extension RecordValue.Problem: CustomStringConvertible {
    public var description: String {
        switch self {
        case .wrongSize(let size): "value of \(size) bytes"
        case .foreignKey: "value does not name its key"
        case .corrupted: "value filler does not match its key and stamp"
        }
    }
}
