/// Why bytes could not be decoded as a ``Message``. New cases may be added, so switch with a default.
public struct MessageDecodingError: Error {
    private enum Code: Equatable {
        case truncated
        case unsupportedVersion(UInt8)
        case unknownMessageKind(UInt8)
        case unknownEntryKind(UInt8)
        case trailingBytes(Int)
    }

    private let code: Code

    private init(_ code: Code) {
        self.code = code
    }

    /// The input ended in the middle of a field, or a length runs past the end.
    public static let truncated = MessageDecodingError(.truncated)
    /// Bytes follow the end of the message.
    ///
    /// - Parameter count: how many.
    /// - Returns: the error.
    public static func trailingBytes(_ count: Int) -> MessageDecodingError {
        MessageDecodingError(.trailingBytes(count))
    }
    /// The format version byte is not one this library reads.
    ///
    /// - Parameter version: the version found.
    /// - Returns: the error.
    public static func unsupportedVersion(_ version: UInt8) -> MessageDecodingError {
        MessageDecodingError(.unsupportedVersion(version))
    }
    /// The message kind byte is unknown.
    ///
    /// - Parameter kind: the byte found.
    /// - Returns: the error.
    public static func unknownMessageKind(_ kind: UInt8) -> MessageDecodingError {
        MessageDecodingError(.unknownMessageKind(kind))
    }
    /// An entry kind byte is unknown.
    ///
    /// - Parameter kind: the byte found.
    /// - Returns: the error.
    public static func unknownEntryKind(_ kind: UInt8) -> MessageDecodingError {
        MessageDecodingError(.unknownEntryKind(kind))
    }
}

// MARK: - Equatable

extension MessageDecodingError: Equatable {}

// MARK: - Sendable

extension MessageDecodingError: Sendable {}

// MARK: - CustomStringConvertible

extension MessageDecodingError: CustomStringConvertible {
    /// A human-readable description.
    public var description: String {
        switch code {
        case .truncated: return "truncated message"
        case .unsupportedVersion(let v): return "unsupported message format version \(v)"
        case .unknownMessageKind(let k): return "unknown message kind \(k)"
        case .unknownEntryKind(let k): return "unknown entry kind \(k)"
        case .trailingBytes(let n): return "\(n) trailing bytes after message"
        }
    }
}
