/// The escaping of one token of the line protocol.
///
/// Bytes 0x21–0x7E other than `%` and `"` stand for themselves; every other byte is written `%XX` with two
/// upper-case hex digits; the empty string is the token `""`. So any byte string fits in one token, and
/// ASCII keys can be typed by hand.
///
/// ```swift
/// ProtocolToken.encode(Array("a b".utf8))   // "a%20b"
/// try ProtocolToken.decode(Array("a%20b".utf8)[...])   // [0x61, 0x20, 0x62]
/// ```
public enum ProtocolToken {
    /// The token that stands for the empty string.
    public static let empty: [UInt8] = [0x22, 0x22]

    /// Whether `byte` may stand for itself in a token.
    @inline(__always)
    public static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x21 && byte <= 0x7E && byte != 0x25 && byte != 0x22
    }

    /// Appends the escaped form of `bytes` to `output`.
    ///
    /// - Parameters:
    ///   - bytes: Any bytes.
    ///   - output: Where the token goes.
    public static func append(_ bytes: some Collection<UInt8>, to output: inout [UInt8]) {
        if bytes.isEmpty {
            output.append(contentsOf: empty)
            return
        }
        let done: Void? = bytes.withContiguousStorageIfAvailable { appendEscaped($0, to: &output) }
        if done == nil { append(Array(bytes), to: &output) }  // not contiguous (rare): one copy, then the same path
    }

    /// Room for the worst case (every byte escaped), filled through a pointer, then trimmed: a bounds-checked
    /// append per byte was most of the cost of encoding a `RAFT` chunk.
    private static func appendEscaped(_ source: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: source.count * 3))
        let end = output.withUnsafeMutableBufferPointer { target in
            var at = start
            for byte in source {
                if isPlain(byte) {
                    target[at] = byte
                    at += 1
                } else {
                    target[at] = 0x25
                    target[at + 1] = hexDigit(byte >> 4)
                    target[at + 2] = hexDigit(byte & 0x0F)
                    at += 3
                }
            }
            return at
        }
        output.removeLast(output.count - end)
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 0x30 + nibble : 0x41 - 10 + nibble
    }

    /// The escaped form of `bytes`.
    public static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        append(bytes, to: &output)
        return output
    }

    /// The escaped form of `bytes` as a string (always ASCII).
    public static func encodeString(_ bytes: some Collection<UInt8>) -> String {
        String(decoding: encode(bytes), as: UTF8.self)
    }

    /// The bytes a token stands for.
    ///
    /// - Parameter token: One token, without the spaces around it.
    /// - Returns: The unescaped bytes.
    /// - Throws: ``ProtocolError`` with ``ErrorCode/badEscape`` for a byte that must be escaped, a `%` not
    ///   followed by two hex digits, or a `"` anywhere but in the token `""`.
    public static func decode(_ token: ArraySlice<UInt8>) throws(ProtocolError) -> [UInt8] {
        if token.count == 2 && token.first == 0x22 && token.last == 0x22 { return [] }
        // Through pointers into an array sized for the token, trimmed at the end: per-byte bounds-checked
        // appends were most of the cost of reading a `RAFT` chunk.
        var failure: ProtocolError?
        let output = token.withUnsafeBufferPointer { source in
            [UInt8](unsafeUninitializedCapacity: source.count) { target, count in
                var index = 0
                count = 0
                while index < source.count {
                    let byte = source[index]
                    if byte == 0x25 {
                        guard index + 2 < source.count, let high = hexValue(source[index + 1]),
                            let low = hexValue(source[index + 2])
                        else {
                            failure = ProtocolError(.badEscape, "'%' must be followed by two hex digits")
                            return
                        }
                        target[count] = high << 4 | low
                        index += 3
                    } else if isPlain(byte) {
                        target[count] = byte
                        index += 1
                    } else if byte == 0x22 {
                        failure = ProtocolError(.badEscape, "'\"' may appear only as the empty token \"\"; write it %22")
                        return
                    } else {
                        failure = ProtocolError(.badEscape, "byte 0x\(String(byte, radix: 16)) must be written %XX")
                        return
                    }
                    count += 1
                }
            }
        }
        if let failure { throw failure }
        return output
    }

    /// `token` with ASCII letters in upper case, as a `String`: verbs and keywords are case-insensitive. A token of
    /// up to 16 bytes (every verb and keyword) is built from a stack buffer, without allocating an array.
    public static func upperCased(_ token: ArraySlice<UInt8>) -> String {
        @inline(__always) func upper(_ byte: UInt8) -> UInt8 { byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte }
        guard token.count <= 16 else { return String(decoding: token.map(upper), as: UTF8.self) }
        var bytes: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &bytes) { buffer in
            for (i, byte) in token.enumerated() { buffer[i] = upper(byte) }
            return String(decoding: buffer.prefix(token.count), as: UTF8.self)
        }
    }

    /// Appends `value` in decimal, as `"\(value)"` would read, without building a `String` (timestamps go into
    /// every transactional request and answer).
    public static func appendDecimal(_ value: UInt64, to output: inout [UInt8]) {
        var rest = value
        var digits = 1
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        output.append(contentsOf: repeatElement(0x30, count: digits))
        rest = value
        var index = output.count - 1
        repeat {
            output[index] = 0x30 + UInt8(rest % 10)
            rest /= 10
            index -= 1
        } while rest > 0
    }

    /// Decodes a token that must be a decimal number.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when it is not one.
    public static func decodeNumber(_ token: ArraySlice<UInt8>, name: String) throws(ProtocolError) -> Int {
        guard !token.isEmpty, token.count <= 18, token.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
            throw ProtocolError(.badArgument, "\(name) must be a decimal number")
        }
        return token.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
