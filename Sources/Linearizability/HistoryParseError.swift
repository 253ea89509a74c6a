/// Why a line of the history text format could not be read.
public enum HistoryParseError: Error, Sendable, Hashable {
    /// The line does not have the number of fields its command needs.
    case wrongFieldCount(line: Int, expected: Int, found: Int)
    /// The client field is not an integer.
    case invalidClient(line: Int, token: String)
    /// A time field is not a non-negative integer (or `?` for the completion).
    case invalidTime(line: Int, token: String)
    /// The completion time is earlier than the invocation time.
    case completionBeforeInvocation(line: Int)
    /// The command is not `put`, `get` or `delete`.
    case unknownCommand(line: Int, token: String)
    /// A key or value token starts with `hex:` but is not valid hex.
    case invalidHexToken(line: Int, token: String)

    /// The 1-based line number where parsing failed.
    public var line: Int {
        switch self {
        case .wrongFieldCount(let line, _, _), .invalidClient(let line, _), .invalidTime(let line, _),
             .completionBeforeInvocation(let line), .unknownCommand(let line, _),
             .invalidHexToken(let line, _):
            line
        }
    }
}

extension HistoryParseError: CustomStringConvertible {
    /// A human-readable message naming the line.
    public var description: String {
        let problem = switch self {
        case .wrongFieldCount(_, let expected, let found):
            "expected \(expected) fields, found \(found)"
        case .invalidClient(_, let token):
            "client id '\(token)' is not an integer"
        case .invalidTime(_, let token):
            "time '\(token)' is not a non-negative integer of nanoseconds"
        case .completionBeforeInvocation:
            "completion time is earlier than invocation time"
        case .unknownCommand(_, let token):
            "unknown command '\(token)' (expected put, get or delete)"
        case .invalidHexToken(_, let token):
            "token '\(token)' is not valid hex"
        }
        return "line \(line): \(problem)"
    }
}
