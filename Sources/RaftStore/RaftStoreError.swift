/// An error of the raftstore: a data directory it cannot use, or a failure that stopped it.
///
/// Compare the ``code``; the ``message`` says what to do about it. New codes may be added.
public struct RaftStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to match on.
    public enum Code: Hashable, Sendable {
        /// Persistent state is damaged or does not fit together (the message names what and where).
        case corrupt
        /// The data directory belongs to another kind of node, or to a newer format.
        case incompatible
        /// Writing the log or the state machine failed; the store stopped taking writes.
        case storageFailed
    }

    /// What went wrong, to match on.
    public let code: Code
    /// One line for people.
    public let message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
