import ArgumentParser
import KVCommandLine
import KVEngine
import KVProtocol
import RaftStore

/// `kvdump scan DIR`: the key-value pairs of one column family, in order.
struct ScanDirectory: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "List the pairs of a column family in key order.",
        discussion: """
            The default column family is shown as the node would serve it after a restart: LMDB's pairs with the \
            committed log entries not yet flushed to LMDB applied on top (--flushed shows LMDB alone). Text output \
            is one line per pair: key and value as protocol tokens (%XX-escaped) separated by a space. JSON output \
            is one object per pair; bytes that are not UTF-8 are base64 with a _base64 flag.
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

    @Flag(help: "Show only what LMDB holds, without the log's unflushed entries.")
    var flushed = false

    @Option(help: "The most pairs to list.")
    var limit: Int?

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let lower = try from.map(bytes)
        let upper = try to.map(bytes)
        var remaining = limit ?? .max
        if cf == .default && !flushed {
            let state = try DurableState(directory: directory)
            defer { state.close() }
            var start = lower ?? []
            try state.read { reader in
                while remaining > 0 {
                    let page = ScanRequest(
                        start: start, end: upper ?? [], limit: min(remaining, ProtocolLimits.maxScanLimit))
                    let (rows, more) = try reader.scan(page)
                    for row in rows { emit(row.key, row.value ?? []) }
                    remaining -= rows.count
                    guard more, let last = rows.last else { return }
                    start = last.key + [0]
                }
            }
            return
        }
        let environment = try openReadOnly(directory)
        defer { environment.close() }
        guard environment.hasColumnFamily(cf) else {
            throw EngineError(.columnFamilyMissing, "\(directory) has no column family '\(cf.rawValue)'")
        }
        try environment.read { txn in
            try txn.forEach(in: cf, range: KeyRange(lower: lower, upper: upper)) { key, value in
                emit(Array(key), Array(value))
                remaining -= 1
                return remaining > 0
            }
        }
    }

    private func emit(_ key: [UInt8], _ value: [UInt8]) {
        switch output {
        case .text:
            var line: [UInt8] = []
            ProtocolToken.append(key, to: &line)
            line.append(0x20)
            ProtocolToken.append(value, to: &line)
            line.append(0x0A)
            StandardStreams.write(line)
        case .json:
            var line = JSONLine()
            line.addBytes("key", key)
            line.addBytes("value", value)
            StandardStreams.writeLine(line.text)
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
