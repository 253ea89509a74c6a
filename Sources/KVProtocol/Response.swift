/// One answer of the line protocol. Answers come back in request order on each connection.
public enum Response: Sendable, Hashable {
    /// `PONG`.
    case pong
    /// `OK` followed by words, each already a valid token (e.g. `keys=10`).
    case ok([String])
    /// `VALUE v`.
    case value([UInt8])
    /// `NIL`: the key is absent.
    case notFound
    /// `ROW key [value]` lines, then `END`, or `END MORE` when the range may hold more rows past the last one.
    case rows([ScanRow], more: Bool)
    /// `ROW word...` lines, then `END`: records of the scheduler's lists, each word already a valid token
    /// (usually `name=value`). A client reading them gets ``rows(_:more:)`` back when every record has one or
    /// two words; ``recordWords`` reads either form.
    case records([[String]])
    /// `ERR code message`.
    case error(ProtocolError)

    /// `OK` with no words.
    public static let ok = Response.ok([])
}

/// One row of a `SCAN` answer.
public struct ScanRow: Sendable, Hashable {
    /// The key.
    public var key: [UInt8]
    /// The value, or `nil` for a `KEYSONLY` scan.
    public var value: [UInt8]?

    /// Creates a row.
    public init(key: [UInt8], value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// The row as the escaped words of a record: key, then value if any.
    public var words: [String] {
        [ProtocolToken.encodeString(key)] + (value.map { [ProtocolToken.encodeString($0)] } ?? [])
    }
}

// MARK: - Encoding

extension Response {
    /// The answer's bytes, with line feed(s).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        append(to: &out)
        return out
    }

    /// Appends the answer's bytes, with line feed(s), to `out`.
    public func append(to out: inout [UInt8]) {
        switch self {
        case .pong:
            out.append(contentsOf: "PONG\n".utf8)
        case .ok(let words):
            out.append(contentsOf: "OK".utf8)
            for word in words {
                out.append(0x20)
                out.append(contentsOf: word.utf8)
            }
            out.append(0x0A)
        case .value(let value):
            out.append(contentsOf: "VALUE ".utf8)
            ProtocolToken.append(value, to: &out)
            out.append(0x0A)
        case .notFound:
            out.append(contentsOf: "NIL\n".utf8)
        case .rows(let rows, let more):
            for row in rows {
                out.append(contentsOf: "ROW ".utf8)
                ProtocolToken.append(row.key, to: &out)
                if let value = row.value {
                    out.append(0x20)
                    ProtocolToken.append(value, to: &out)
                }
                out.append(0x0A)
            }
            out.append(contentsOf: (more ? "END MORE\n" : "END\n").utf8)
        case .records(let records):
            for record in records {
                out.append(contentsOf: "ROW".utf8)
                for word in record {
                    out.append(0x20)
                    out.append(contentsOf: word.utf8)
                }
                out.append(0x0A)
            }
            out.append(contentsOf: "END\n".utf8)
        case .error(let error):
            out.append(contentsOf: "ERR ".utf8)
            out.append(contentsOf: error.code.rawValue.utf8)
            out.append(0x20)
            // Free text, but kept to one printable line.
            for byte in error.message.utf8 {
                if byte == 0x20 || ProtocolToken.isPlain(byte) || byte == 0x25 || byte == 0x22 {
                    out.append(byte)
                } else {
                    out.append(0x3F)
                }
            }
            out.append(0x0A)
        }
    }
}

// MARK: - Parsing

/// Turns answer lines back into ``Response`` values on the client side; a `SCAN` answer spans many lines.
public struct ResponseAssembler: Sendable {
    private var rows: [ScanRow]?
    /// The words of every row of the current answer, for rows that are not `key [value]`.
    private var records: [[String]] = []
    private var sawRecord = false

    /// A fresh assembler.
    public init() {}

    /// Whether the assembler is in the middle of a multi-line answer.
    public var isInsideAnswer: Bool { rows != nil }

    /// Takes one line (without its line feed).
    ///
    /// - Parameter line: The bytes of the line; a trailing CR is ignored.
    /// - Returns: The answer when the line completes one, `nil` while rows are still coming.
    /// - Throws: ``ProtocolError`` with code `BAD_RESPONSE` when the line is not a valid answer.
    public mutating func feed(_ line: ArraySlice<UInt8>) throws(ProtocolError) -> Response? {
        var line = line
        if line.last == 0x0D { line.removeLast() }
        // The common lines of row answers first, without splitting them into tokens.
        if !sawRecord, let row = try Self.plainRow(line) {
            if rows == nil {
                rows = []
                rows!.reserveCapacity(4)  // a `TMGET` of two keys answers four lines: no regrowth
            }
            rows!.append(row)
            return nil
        }
        if let found = rows, !sawRecord, line.count == 3, line.elementsEqual("END".utf8) {
            rows = nil
            return .rows(found, more: false)
        }
        let tokens = RequestLine.split(line)
        guard let head = tokens.first else { throw Self.bad("empty answer line") }
        let verb = String(decoding: head, as: UTF8.self)
        if rows != nil {
            switch verb {
            case "ROW":
                guard tokens.count >= 2 else { throw Self.bad("ROW needs at least one word") }
                if tokens.count > 3 && !sawRecord {
                    // A record answer after all: the rows so far become records too (words kept only from here,
                    // so that a row answer, the common case, builds no strings).
                    sawRecord = true
                    records = rows!.map(\.words)
                }
                if sawRecord {
                    records.append(tokens.dropFirst().map { String(decoding: $0, as: UTF8.self) })
                    return nil
                }
                let key = try ProtocolToken.decode(tokens[tokens.startIndex + 1])
                let value = tokens.count == 3 ? try ProtocolToken.decode(tokens[tokens.startIndex + 2]) : nil
                rows!.append(ScanRow(key: key, value: value))
                return nil
            case "END":
                let more = tokens.count == 2 && String(decoding: tokens[tokens.startIndex + 1], as: UTF8.self) == "MORE"
                defer {
                    rows = nil
                    records = []
                    sawRecord = false
                }
                return sawRecord ? .records(records) : .rows(rows!, more: more)
            default:
                throw Self.bad("expected ROW or END inside a row answer, got \(verb.prefix(16))")
            }
        }
        switch verb {
        case "PONG":
            return .pong
        case "OK":
            return .ok(tokens.dropFirst().map { String(decoding: $0, as: UTF8.self) })
        case "NIL":
            return .notFound
        case "VALUE":
            guard tokens.count == 2 else { throw Self.bad("VALUE needs one token") }
            return .value(try ProtocolToken.decode(tokens[tokens.startIndex + 1]))
        case "ROW":
            rows = []
            return try feed(line)
        case "END":
            rows = []
            return try feed(line)
        case "ERR":
            guard tokens.count >= 2 else { throw Self.bad("ERR needs a code") }
            let code = ErrorCode(rawValue: String(decoding: tokens[tokens.startIndex + 1], as: UTF8.self))
            // The message is the rest of the line after the code, spaces kept.
            let codeEnd = tokens[tokens.startIndex + 1].endIndex
            let rest = line[codeEnd...].drop(while: { $0 == 0x20 })
            return .error(ProtocolError(code, String(decoding: rest, as: UTF8.self)))
        default:
            throw Self.bad("unknown answer '\(ProtocolToken.encodeString(head.prefix(16)))'")
        }
    }

    /// The row of a `ROW key` or `ROW key value` line (single spaces, the server's form), read without splitting
    /// the line into tokens: the common line of `TMGET` and `SCAN` answers. Nil for any other line, which the
    /// general path reads.
    private static func plainRow(_ line: ArraySlice<UInt8>) throws(ProtocolError) -> ScanRow? {
        let start = line.startIndex
        guard line.count > 4, line[start] == 0x52, line[start + 1] == 0x4F, line[start + 2] == 0x57, line[start + 3] == 0x20,
            line[start + 4] != 0x20
        else { return nil }
        let words = line[(start + 4)...]
        guard let space = words.firstIndex(of: 0x20) else { return ScanRow(key: try ProtocolToken.decode(words), value: nil) }
        let value = line[(space + 1)...]
        guard !value.isEmpty, !value.contains(0x20) else { return nil }
        return ScanRow(key: try ProtocolToken.decode(line[(start + 4)..<space]), value: try ProtocolToken.decode(value))
    }

    private static func bad(_ message: String) -> ProtocolError {
        ProtocolError(.badResponse, message)
    }
}

extension Response {
    /// The words of each row of a list answer, whichever way the assembler read it: a one- or two-word record
    /// comes back as a ``rows(_:more:)`` answer, so it is turned back into its escaped words here.
    public var recordWords: [[String]]? {
        switch self {
        case .records(let records):
            return records
        case .rows(let rows, _):
            return rows.map(\.words)
        default:
            return nil
        }
    }
}

extension ErrorCode {
    /// Client side only: the server's answer could not be parsed.
    public static let badResponse = ErrorCode(rawValue: "BAD_RESPONSE")
}
