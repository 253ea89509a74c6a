/// Builds one JSON object on one line, with fields in the order they are added.
///
/// Byte strings that are valid UTF-8 are written as JSON strings; others are base64-encoded and the field
/// `<name>_base64` is set to `true`, so no byte is lost.
public struct JSONLine: Sendable {
    private var fields: [String] = []

    /// An empty object.
    public init() {}

    /// Adds a string field.
    public mutating func add(_ name: String, _ value: String) {
        fields.append("\(Self.quote(name)):\(Self.quote(value))")
    }

    /// Adds an integer field.
    public mutating func add(_ name: String, _ value: Int) {
        fields.append("\(Self.quote(name)):\(value)")
    }

    /// Adds a boolean field.
    public mutating func add(_ name: String, _ value: Bool) {
        fields.append("\(Self.quote(name)):\(value)")
    }

    /// Adds a `null` field.
    public mutating func addNull(_ name: String) {
        fields.append("\(Self.quote(name)):null")
    }

    /// Adds a field holding an already-encoded JSON value (an array or object built elsewhere).
    public mutating func addRaw(_ name: String, json: String) {
        fields.append("\(Self.quote(name)):\(json)")
    }

    /// Adds a byte string: as text when it is UTF-8, else base64 with `<name>_base64: true`.
    public mutating func addBytes(_ name: String, _ bytes: [UInt8]) {
        if let text = String(validating: bytes, as: UTF8.self) {
            add(name, text)
        } else {
            add(name, Base64.encode(bytes))
            add(name + "_base64", true)
        }
    }

    /// The object's text, without a newline.
    public var text: String { "{" + fields.joined(separator: ",") + "}" }

    /// A JSON string literal for `text`.
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Standard base64 (RFC 4648, with padding).
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Encodes bytes.
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 2 < bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in [18, 12, 6, 0] { out.append(alphabet[Int(chunk >> UInt32(shift) & 0x3F)]) }
            index += 3
        }
        let rest = bytes.count - index
        if rest > 0 {
            let chunk = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
            out.append(alphabet[Int(chunk >> 18 & 0x3F)])
            out.append(alphabet[Int(chunk >> 12 & 0x3F)])
            out.append(rest == 2 ? alphabet[Int(chunk >> 6 & 0x3F)] : 0x3D)
            out.append(0x3D)
        }
        return String(decoding: out, as: UTF8.self)
    }
}
