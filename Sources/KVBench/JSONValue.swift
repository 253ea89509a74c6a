/// A parsed JSON document: just enough of RFC 8259 to read etcd's gateway answers without Foundation.
public enum JSONValue: Sendable, Hashable {
    /// An object; later duplicates of a name win.
    case object([String: JSONValue])
    /// An array.
    case array([JSONValue])
    /// A string, with escapes resolved.
    case string(String)
    /// A number, as written (etcd writes 64-bit integers as strings anyway).
    case number(String)
    /// `true` or `false`.
    case bool(Bool)
    /// `null`.
    case null

    /// The member `name` of an object, or `nil`.
    public subscript(name: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[name]
    }

    /// The string, or the digits of a number, or `nil`.
    public var text: String? {
        switch self {
        case .string(let text), .number(let text): text
        default: nil
        }
    }

    /// The elements of an array, or `nil`.
    public var elements: [JSONValue]? {
        guard case .array(let elements) = self else { return nil }
        return elements
    }
}

// MARK: - Parsing

extension JSONValue {
    /// Parses a complete JSON text.
    ///
    /// - Parameter bytes: UTF-8 JSON.
    /// - Returns: The value.
    /// - Throws: ``DriverError`` of kind badResponse when the text is not JSON.
    public static func parse(_ bytes: some Collection<UInt8>) throws(DriverError) -> JSONValue {
        var parser = JSONParser(bytes: Array(bytes))
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == parser.bytes.count else { throw parser.failure("trailing bytes after the JSON value") }
        return value
    }
}

/// The recursive-descent parser behind ``JSONValue/parse(_:)``.
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func failure(_ message: String) -> DriverError {
        DriverError(.badResponse, "bad JSON at byte \(index): \(message)")
    }

    mutating func skipSpace() {
        while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
    }

    mutating func value(depth: Int) throws(DriverError) -> JSONValue {
        guard depth < 64 else { throw failure("nested too deep") }
        skipSpace()
        guard index < bytes.count else { throw failure("unexpected end") }
        switch bytes[index] {
        case 0x7B: return try object(depth: depth)
        case 0x5B: return try array(depth: depth)
        case 0x22: return .string(try string())
        case 0x74: try literal("true"); return .bool(true)
        case 0x66: try literal("false"); return .bool(false)
        case 0x6E: try literal("null"); return .null
        default: return try number()
        }
    }

    mutating func object(depth: Int) throws(DriverError) -> JSONValue {
        index += 1
        var members: [String: JSONValue] = [:]
        skipSpace()
        if index < bytes.count && bytes[index] == 0x7D {
            index += 1
            return .object(members)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x22 else { throw failure("expected a member name") }
            let name = try string()
            skipSpace()
            guard index < bytes.count, bytes[index] == 0x3A else { throw failure("expected ':'") }
            index += 1
            members[name] = try value(depth: depth + 1)
            skipSpace()
            guard index < bytes.count else { throw failure("unterminated object") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x7D { index += 1; return .object(members) }
            throw failure("expected ',' or '}'")
        }
    }

    mutating func array(depth: Int) throws(DriverError) -> JSONValue {
        index += 1
        var elements: [JSONValue] = []
        skipSpace()
        if index < bytes.count && bytes[index] == 0x5D {
            index += 1
            return .array(elements)
        }
        while true {
            elements.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw failure("unterminated array") }
            if bytes[index] == 0x2C { index += 1; continue }
            if bytes[index] == 0x5D { index += 1; return .array(elements) }
            throw failure("expected ',' or ']'")
        }
    }

    mutating func string() throws(DriverError) -> String {
        index += 1
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case 0x22:
                return String(decoding: out, as: UTF8.self)
            case 0x5C:
                guard index < bytes.count else { throw failure("unterminated escape") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case 0x22, 0x5C, 0x2F: out.append(escape)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0C)
                case 0x6E: out.append(0x0A)
                case 0x72: out.append(0x0D)
                case 0x74: out.append(0x09)
                case 0x75:
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar), index + 1 < bytes.count, bytes[index] == 0x5C,
                       bytes[index + 1] == 0x75 {
                        index += 2
                        let low = try hex4()
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                default:
                    throw failure("unknown escape")
                }
            default:
                out.append(byte)
            }
        }
        throw failure("unterminated string")
    }

    mutating func hex4() throws(DriverError) -> UInt32 {
        guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16)
        else { throw failure("bad \\u escape") }
        index += 4
        return value
    }

    mutating func literal(_ word: String) throws(DriverError) {
        let expected = Array(word.utf8)
        guard index + expected.count <= bytes.count, Array(bytes[index..<(index + expected.count)]) == expected else {
            throw failure("expected \(word)")
        }
        index += expected.count
    }

    mutating func number() throws(DriverError) -> JSONValue {
        let start = index
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) || [0x2D, 0x2B, 0x2E, 0x65, 0x45].contains(bytes[index]) {
            index += 1
        }
        guard index > start else { throw failure("unexpected byte \(bytes[index])") }
        return .number(String(decoding: bytes[start..<index], as: UTF8.self))
    }
}
