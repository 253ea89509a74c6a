/// A failure of a benchmark as a whole (as opposed to one operation's ``DriverError``).
public struct BenchError: Error, CustomStringConvertible {
    /// What failed, for the exit code.
    public enum Kind: Hashable {
        /// The options do not make a valid run.
        case usage
        /// The store could not be reached.
        case unreachable
        /// The load phase failed.
        case loadFailed
    }

    /// The kind of failure.
    public let kind: Kind
    /// A one-line explanation.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

// MARK: - Sendable

extension BenchError: Sendable {}
extension BenchError.Kind: Sendable {}
