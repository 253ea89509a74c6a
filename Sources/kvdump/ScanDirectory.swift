import ArgumentParser
import KVCommandLine
import KVEngine
import KVProtocol

/// `kvdump scan DIR`: the key-value pairs of one column family, in order.
struct ScanDirectory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List the pairs of a column family in key order.",
        discussion: """
            Text output is one line per pair: key and value as protocol tokens (%XX-escaped) separated by a \
            space. JSON output is one object per pair; bytes that are not UTF-8 are base64 with a _base64 flag.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    @Option(help: "Column family: default, lock, write, raft or meta.")
    var cf: ColumnFamily = .default

    @Option(help: "First key (inclusive).")
    var from: String?

    @Option(help: "End key (exclusive).")
    var to: String?

    @Flag(help: "--from and --to are written in the protocol's %XX escaping.")
    var escaped = false

    @Option(help: "The most pairs to list.")
    var limit: Int?

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let range = KeyRange(lower: try from.map(bytes), upper: try to.map(bytes))
        let environment = try openReadOnly(directory)
        defer { environment.close() }
        guard environment.hasColumnFamily(cf) else {
            throw EngineError(.columnFamilyMissing, "\(directory) has no column family '\(cf.rawValue)'")
        }
        var remaining = limit ?? .max
        let format = output
        try environment.read { txn in
            try txn.forEach(in: cf, range: range) { key, value in
                switch format {
                case .text:
                    var line: [UInt8] = []
                    ProtocolToken.append(key, to: &line)
                    line.append(0x20)
                    ProtocolToken.append(value, to: &line)
                    line.append(0x0A)
                    StandardStreams.write(line)
                case .json:
                    var line = JSONLine()
                    line.addBytes("key", Array(key))
                    line.addBytes("value", Array(value))
                    StandardStreams.writeLine(line.text)
                }
                remaining -= 1
                return remaining > 0
            }
        }
    }

    private func bytes(_ text: String) throws -> [UInt8] {
        guard escaped else { return Array(text.utf8) }
        do {
            return try ProtocolToken.decode(Array(text.utf8)[...])
        } catch {
            throw ValidationError("key is not validly escaped: \(error.message)")
        }
    }
}
