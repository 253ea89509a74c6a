/// An error answer: `ERR <code> <message>`.
public struct ProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable code.
    public var code: ErrorCode
    /// A one-line explanation for people (printable ASCII; the encoder escapes anything else).
    public var message: String

    /// Creates an error answer.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: The explanation.
    public init(_ code: ErrorCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue) \(message)" }
}
