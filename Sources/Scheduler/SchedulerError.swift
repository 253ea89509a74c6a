/// A failure of the scheduler's core: its storage, its options, or its persisted state.
public struct SchedulerError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public enum Code: Sendable, Hashable {
        /// The options contradict each other or are out of range.
        case badOptions
        /// The data directory could not be opened, read or written.
        case storage
        /// A persisted record could not be decoded: the directory is damaged or from another program.
        case corrupt
    }

    /// What kind of failure.
    public let code: Code
    /// A one-line explanation naming what failed.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
