/// A value of the Redis serialization protocol, version 2 (RESP2).
public enum RESPValue: Sendable, Hashable {
    /// `+text`.
    case simple(String)
    /// `-message`.
    case error(String)
    /// `:n`.
    case integer(Int)
    /// `$n` followed by n bytes; `$-1` is `nil`.
    case bulk([UInt8]?)
    /// `*n` followed by n values; `*-1` is `nil`.
    case array([RESPValue]?)
}

// MARK: - Encoding and parsing

extension RESPValue {
    /// A command as RESP sends it: an array of bulk strings.
    ///
    /// - Parameter arguments: The command name and its arguments.
    /// - Returns: The bytes to send.
    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        appendCommand(arguments, to: &out)
        return out
    }

    /// Appends a command to `out`, for pipelining several in one write.
    public static func appendCommand(_ arguments: [[UInt8]], to out: inout [UInt8]) {
        out.append(0x2A)
        out.append(contentsOf: String(arguments.count).utf8)
        out.append(contentsOf: [0x0D, 0x0A])
        for argument in arguments {
            out.append(0x24)
            out.append(contentsOf: String(argument.count).utf8)
            out.append(contentsOf: [0x0D, 0x0A])
            out.append(contentsOf: argument)
            out.append(contentsOf: [0x0D, 0x0A])
        }
    }

    /// Parses one value from the front of `bytes`.
    ///
    /// - Parameter bytes: Received bytes; may hold a partial value or several values.
    /// - Returns: The value and how many bytes it took, or `nil` when `bytes` holds only part of one.
    /// - Throws: ``DriverError`` of kind badResponse when the bytes are not RESP.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(DriverError) -> (value: RESPValue, length: Int)? {
        guard let (value, end) = try parse(bytes, at: bytes.startIndex, depth: 0) else { return nil }
        return (value, end - bytes.startIndex)
    }

    private static func parse(
        _ bytes: ArraySlice<UInt8>, at index: Int, depth: Int
    ) throws(DriverError) -> (RESPValue, Int)? {
        guard depth < 16 else { throw DriverError(.badResponse, "RESP nesting too deep") }
        guard index < bytes.endIndex, let lineEnd = lineEnd(bytes, from: index + 1) else { return nil }
        let line = bytes[(index + 1)..<lineEnd]
        let next = lineEnd + 2
        switch bytes[index] {
        case 0x2B:
            return (.simple(String(decoding: line, as: UTF8.self)), next)
        case 0x2D:
            return (.error(String(decoding: line, as: UTF8.self)), next)
        case 0x3A:
            return (.integer(try number(line)), next)
        case 0x24:
            let length = try number(line)
            if length < 0 { return (.bulk(nil), next) }
            guard next + length + 2 <= bytes.endIndex else { return nil }
            guard bytes[next + length] == 0x0D, bytes[next + length + 1] == 0x0A else {
                throw DriverError(.badResponse, "RESP bulk string not followed by CRLF")
            }
            return (.bulk(Array(bytes[next..<(next + length)])), next + length + 2)
        case 0x2A:
            let count = try number(line)
            if count < 0 { return (.array(nil), next) }
            var elements: [RESPValue] = []
            elements.reserveCapacity(count)
            var position = next
            for _ in 0..<count {
                guard let (element, after) = try parse(bytes, at: position, depth: depth + 1) else { return nil }
                elements.append(element)
                position = after
            }
            return (.array(elements), position)
        default:
            throw DriverError(.badResponse, "not a RESP value (starts with byte \(bytes[index]))")
        }
    }

    private static func lineEnd(_ bytes: ArraySlice<UInt8>, from index: Int) -> Int? {
        var position = index
        while position + 1 < bytes.endIndex {
            if bytes[position] == 0x0D && bytes[position + 1] == 0x0A { return position }
            position += 1
        }
        return nil
    }

    private static func number(_ digits: ArraySlice<UInt8>) throws(DriverError) -> Int {
        guard let value = Int(String(decoding: digits, as: UTF8.self)) else {
            throw DriverError(.badResponse, "RESP length or integer is not a number")
        }
        return value
    }
}
