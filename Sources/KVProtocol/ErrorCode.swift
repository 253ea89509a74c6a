/// The stable upper-case word after `ERR` that scripts and clients match on.
///
/// The set grows with the protocol, so it is a string-backed struct rather than a closed enum; codes the
/// client does not know arrive as they are.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The word as it appears on the wire, e.g. `KEY_TOO_LARGE`.
    public let rawValue: String

    /// Wraps a code word.
    public init(rawValue: String) { self.rawValue = rawValue }

    public var description: String { rawValue }
}

// MARK: - Codes

extension ErrorCode {
    /// The verb is not one the server knows.
    public static let unknownCommand = ErrorCode(rawValue: "UNKNOWN_COMMAND")
    /// The verb got the wrong number of arguments.
    public static let wrongArity = ErrorCode(rawValue: "WRONG_ARITY")
    /// A token holds a byte that must be escaped, or a malformed `%XX` escape.
    public static let badEscape = ErrorCode(rawValue: "BAD_ESCAPE")
    /// An argument has the wrong form (a number that is not one, an unknown option).
    public static let badArgument = ErrorCode(rawValue: "BAD_ARGUMENT")
    /// The request line is longer than the limit; the line was skipped.
    public static let lineTooLong = ErrorCode(rawValue: "LINE_TOO_LONG")
    /// The key is longer than ``ProtocolLimits/maxKeySize``.
    public static let keyTooLarge = ErrorCode(rawValue: "KEY_TOO_LARGE")
    /// The value is longer than ``ProtocolLimits/maxValueSize``.
    public static let valueTooLarge = ErrorCode(rawValue: "VALUE_TOO_LARGE")
    /// Keys must not be empty.
    public static let emptyKey = ErrorCode(rawValue: "EMPTY_KEY")
    /// The storage engine failed; the request had no effect.
    public static let storage = ErrorCode(rawValue: "STORAGE")
    /// The server is overloaded; try again later.
    public static let serverBusy = ErrorCode(rawValue: "SERVER_BUSY")
    /// The server is shutting down and takes no new requests.
    public static let shuttingDown = ErrorCode(rawValue: "SHUTTING_DOWN")
    /// A transaction met a conflicting one (used by the transactional API).
    public static let conflict = ErrorCode(rawValue: "CONFLICT")
    /// A transaction was aborted (used by the transactional API).
    public static let aborted = ErrorCode(rawValue: "ABORTED")
    /// The node is not the leader of the key's region (or the region has no leader yet): retry, elsewhere if
    /// the message names the leader.
    public static let notLeader = ErrorCode(rawValue: "NOT_LEADER")
    /// The key lies in no region this node holds.
    public static let keyNotInRegion = ErrorCode(rawValue: "KEY_NOT_IN_REGION")
    /// The write was proposed but a new leader dropped it: it did not apply; retry.
    public static let staleCommand = ErrorCode(rawValue: "STALE_COMMAND")
    /// A bug on the server side.
    public static let internalError = ErrorCode(rawValue: "INTERNAL")
}

extension ErrorCode {
    /// The scheduler has already been bootstrapped (by another node, or an earlier start).
    public static let alreadyBootstrapped = ErrorCode(rawValue: "ALREADY_BOOTSTRAPPED")
    /// The cluster has not been bootstrapped yet: no region exists.
    public static let notBootstrapped = ErrorCode(rawValue: "NOT_BOOTSTRAPPED")
    /// No region with that id, or none covering that key.
    public static let regionNotFound = ErrorCode(rawValue: "REGION_NOT_FOUND")
    /// No store with that id.
    public static let storeNotFound = ErrorCode(rawValue: "STORE_NOT_FOUND")
    /// The request's region epoch is older than the region's current one.
    public static let epochNotMatch = ErrorCode(rawValue: "EPOCH_NOT_MATCH")
    /// Another store already uses that address.
    public static let storeConflict = ErrorCode(rawValue: "STORE_CONFLICT")
    /// The process does not serve this command (e.g. a scheduler command sent to a kvnode).
    public static let notSupported = ErrorCode(rawValue: "NOT_SUPPORTED")
}

extension ErrorCode {
    /// The write was proposed but leadership changed before it applied: it may or may not take effect.
    public static let outcomeUnknown = ErrorCode(rawValue: "OUTCOME_UNKNOWN")
}
