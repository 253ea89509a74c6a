/// An error of the log engine: a failed system call, damaged files, or a request the log cannot answer.
///
/// Compare the ``code`` (`error.code == .corrupt`); the ``message`` names the file and offset where that
/// applies. New codes may be added, so `switch` with a default.
public struct LogEngineError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to match on.
    public enum Code: Hashable, Sendable {
        /// A system call failed with this `errno`.
        case io(Int32)
        /// A record or segment is damaged somewhere other than the interrupted tail of the newest segment, or
        /// the records do not fit together (a gap in a region's entries). The node must not start.
        case corrupt
        /// The requested entries were compacted away.
        case compacted
        /// The requested entries are beyond the last one.
        case unavailable
        /// A record is larger than ``LogFormat/maxRecordPayload``.
        case recordTooLarge
        /// A write was attempted on an engine opened read-only.
        case readOnly
        /// An earlier write or sync failed; the state on disk is unknown until a restart recovers it.
        case failed
        /// The engine was closed.
        case closed
    }

    /// What went wrong, to match on.
    public let code: Code
    /// One line for people, naming the file and offset where that applies.
    public let message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: The explanation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}

// MARK: - Equatable

extension LogEngineError: Equatable {
    /// Errors are equal when their codes are; the message is for people.
    public static func == (lhs: LogEngineError, rhs: LogEngineError) -> Bool { lhs.code == rhs.code }
}
