/// A key or value of the store: an arbitrary string of bytes.
///
/// The store treats keys and values as raw bytes. `ByteString` adds string
/// literals and a readable rendering so fixtures and reports stay legible.
public struct ByteString: Sendable {
    /// The raw bytes.
    public var bytes: [UInt8]

    /// Creates a byte string from raw bytes.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Creates a byte string holding the UTF-8 encoding of `string`.
    public init(_ string: String) {
        self.bytes = Array(string.utf8)
    }
}

extension ByteString: Hashable {}

extension ByteString: Comparable {
    /// Orders byte strings lexicographically by byte, which keeps reports deterministic.
    public static func < (lhs: ByteString, rhs: ByteString) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

extension ByteString: ExpressibleByStringInterpolation {
    /// Creates a byte string holding the UTF-8 encoding of a string literal;
    /// interpolated literals such as `"v\(index)"` work too.
    public init(stringLiteral value: String) {
        self.init(value)
    }
}

extension ByteString: CustomStringConvertible {
    /// The token used by the history text format: the bytes as text when they are
    /// printable ASCII without spaces, otherwise `hex:` followed by their hex digits.
    public var description: String { token }
}

extension ByteString {
    static let hexTokenPrefix = "hex:"

    /// Renders the bytes as a whitespace-free token that `init(token:)` reads back.
    var token: String {
        let isPlainToken = !bytes.isEmpty
            && bytes.allSatisfy { (0x21...0x7E).contains($0) }
            && !String(decoding: bytes, as: UTF8.self).hasPrefix(Self.hexTokenPrefix)
            // `nil` and `?` mean "absent" and "unknown" in the text format.
            && bytes != Array("nil".utf8) && bytes != Array("?".utf8)
        if isPlainToken {
            return String(decoding: bytes, as: UTF8.self)
        }
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        hex.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return Self.hexTokenPrefix + String(decoding: hex, as: UTF8.self)
    }

    /// Reads a token written by `token`; returns `nil` for malformed hex.
    init?(token: Substring) {
        guard token.hasPrefix(Self.hexTokenPrefix) else {
            self.init(Array(token.utf8))
            return
        }
        let digits = Array(token.utf8.dropFirst(Self.hexTokenPrefix.utf8.count))
        guard digits.count.isMultiple(of: 2) else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = Self.hexValue(digits[index]), let low = Self.hexValue(digits[index + 1]) else {
                return nil
            }
            bytes.append(high << 4 | low)
            index += 2
        }
        self.init(bytes)
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
