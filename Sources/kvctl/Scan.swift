import ArgumentParser
import KVClient
import KVCommandLine
import KVProtocol

/// `kvctl scan [START] [END]`: lists keys in order, one per line.
struct Scan: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the keys (and values) of a range in order.",
        discussion: """
            Text output is one line per key: the key and the value as protocol tokens (%XX-escaped, so binary \
            data stays on one line and plain ASCII reads as itself), separated by a space. Without --limit every \
            key of the range is listed, fetched in pages.
            """)

    @OptionGroup var client: ClientOptions

    @Flag(help: "START, END and PREFIX are written in the protocol's %XX escaping.")
    var escaped = false

    @Argument(help: "First key (inclusive); omit or \"\" for the beginning.")
    var start: String?

    @Argument(help: "End key (exclusive); omit or \"\" for no end.")
    var end: String?

    @Option(help: "The most keys to list.")
    var limit: Int?

    @Option(help: "List only keys that start with this prefix.")
    var prefix: String?

    @Flag(help: "List keys without values.")
    var keysOnly = false

    @Flag(help: "List from the end of the range backwards.")
    var reverse = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
        if prefix != nil && (start != nil || end != nil) {
            throw ValidationError("give either --prefix or START/END, not both")
        }
    }

    func run() throws {
        var request = ScanRequest(limit: ProtocolLimits.maxScanLimit, reverse: reverse, keysOnly: keysOnly)
        if let prefix {
            let range = ScanRequest.prefix(try argumentBytes(prefix, escaped: escaped, what: "PREFIX"))
            request.start = range.start
            request.end = range.end
        } else {
            request.start = try start.map { try argumentBytes($0, escaped: escaped, what: "START") } ?? []
            request.end = try end.map { try argumentBytes($0, escaped: escaped, what: "END") } ?? []
            if request.start == Array("\"\"".utf8) { request.start = [] }
            if request.end == Array("\"\"".utf8) { request.end = [] }
        }
        let node = try client.connectKeyValue()
        let format = client.output
        try clientCall { () throws(KVClientError) in
            try node.scan(request, maxRows: limit) { row in
                Self.print(row, format: format)
                return true
            }
        }
    }

    static func print(_ row: ScanRow, format: OutputFormat) {
        switch format {
        case .json:
            var line = JSONLine()
            line.addBytes("key", row.key)
            if let value = row.value { line.addBytes("value", value) }
            StandardStreams.writeLine(line.text)
        case .text:
            var out: [UInt8] = []
            ProtocolToken.append(row.key, to: &out)
            if let value = row.value {
                out.append(0x20)
                ProtocolToken.append(value, to: &out)
            }
            out.append(0x0A)
            StandardStreams.write(out)
        }
    }
}
