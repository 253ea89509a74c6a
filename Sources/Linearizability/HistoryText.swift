/// The history text format: one operation per line,
///
///     CLIENT INVOKE_NS COMPLETE_NS|? put KEY VALUE
///     CLIENT INVOKE_NS COMPLETE_NS|? get KEY VALUE|nil
///     CLIENT INVOKE_NS COMPLETE_NS|? delete KEY
///
/// `?` in place of the completion time means the outcome is unknown; `nil` as the
/// value of a `get` means the key was absent. Keys and values are tokens without
/// whitespace; bytes that are not printable ASCII (and the tokens `nil` and `?`)
/// are written as `hex:` followed by hex digits. Fields are separated by spaces or
/// tabs; lines end with LF or CRLF; blank lines and lines starting with `#` are ignored.
extension History {
    /// Reads a history from the text format.
    ///
    /// - Throws: ``HistoryParseError`` naming the first offending line.
    public init(parsing text: String) throws(HistoryParseError) {
        var operations: [StoreOperation] = []
        var lineNumber = 0
        // `isNewline` also matches "\r\n", which Swift treats as a single character.
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let fields = line.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty || fields[0].hasPrefix("#") { continue }
            operations.append(try Self.parseOperation(fields, line: lineNumber))
        }
        self.init(operations)
    }

    /// The history in the text format, one line per operation in recorded order.
    public var text: String {
        operations.map { "\($0)\n" }.joined()
    }

    private static func parseOperation(_ fields: [Substring], line: Int) throws(HistoryParseError) -> StoreOperation {
        guard fields.count >= 5 else {
            throw .wrongFieldCount(line: line, expected: 5, found: fields.count)
        }
        guard let client = Int(fields[0]) else {
            throw .invalidClient(line: line, token: String(fields[0]))
        }
        guard let invokeTime = UInt64(fields[1]) else {
            throw .invalidTime(line: line, token: String(fields[1]))
        }
        let outcome: StoreOperation.Outcome
        if fields[2] == "?" {
            outcome = .unknown
        } else if let completeTime = UInt64(fields[2]) {
            guard completeTime >= invokeTime else { throw .completionBeforeInvocation(line: line) }
            outcome = .ok(completedAt: completeTime)
        } else {
            throw .invalidTime(line: line, token: String(fields[2]))
        }

        func byteString(_ token: Substring) throws(HistoryParseError) -> ByteString {
            guard let value = ByteString(token: token) else {
                throw .invalidHexToken(line: line, token: String(token))
            }
            return value
        }
        func requireFieldCount(_ expected: Int) throws(HistoryParseError) {
            guard fields.count == expected else {
                throw .wrongFieldCount(line: line, expected: expected, found: fields.count)
            }
        }

        let key = try byteString(fields[4])
        let kind: StoreOperation.Kind
        switch fields[3] {
        case "put":
            try requireFieldCount(6)
            kind = .write(try byteString(fields[5]))
        case "get":
            try requireFieldCount(6)
            let observed: ByteString? = try fields[5] == "nil" ? nil : byteString(fields[5])
            kind = .read(observed: observed)
        case "delete":
            try requireFieldCount(5)
            kind = .delete
        default:
            throw .unknownCommand(line: line, token: String(fields[3]))
        }
        return StoreOperation(client: client, key: key, kind: kind, invokeTime: invokeTime, outcome: outcome)
    }
}
