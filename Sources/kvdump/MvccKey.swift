import ArgumentParser
import KVCommandLine
import KVProtocol
import RaftStore
import Txn

#if canImport(Glibc)
import Glibc
#endif

/// `kvdump mvcc DIR KEY`: every record of one transactional user key, decoded.
struct MvccKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mvcc",
        abstract: "Show every version, lock and rollback record of a transactional key, decoded.",
        discussion: """
            Reads the node's state as it would serve it after a restart (LMDB with the committed log entries not yet \
            flushed applied on top). Text output is one line per record, newest first after the lock: \
            LOCK kind start_ts ttl primary; WRITE commit_ts kind start_ts; DATA start_ts value. Timestamps are shown \
            with their physical time (UTC) too. Exit 1 when the key has no records.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    @Argument(help: "The user key.")
    var key: String

    @Flag(help: "KEY is written in the protocol's %XX escaping.")
    var escaped = false

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let userKey = escaped ? try ProtocolToken.decode(Array(key.utf8)[...]) : Array(key.utf8)
        let state = try DurableState(directory: directory)
        defer { state.close() }
        var count = 0
        try state.read { reader in
            var start = TxnKeys.base(userKey)
            let end = TxnKeys.end(userKey)
            while true {
                let (rows, more) = try reader.scan(ScanRequest(start: start, end: end, limit: ProtocolLimits.maxScanLimit))
                for row in rows {
                    emit(row.key, row.value ?? [])
                    count += 1
                }
                guard more, let last = rows.last else { return }
                start = last.key + [0]
            }
        }
        if count == 0 {
            throw ToolFailure(exitCode: 1, message: "no transactional records of key \(ProtocolToken.encodeString(userKey))")
        }
    }

    private func emit(_ stored: [UInt8], _ value: [UInt8]) {
        var line = JSONLine()
        var words: [String] = []
        func field(_ name: String, _ number: UInt64) {
            line.add(name, Int(truncatingIfNeeded: number))
            words.append("\(name)=\(number)")
        }
        func text(_ name: String, _ value: String) {
            line.add(name, value)
            words.append("\(name)=\(value)")
        }
        func bytes(_ name: String, _ value: [UInt8]) {
            line.addBytes(name, value)
            words.append("\(name)=\(ProtocolToken.encodeString(value))")
        }
        let decoded = TxnKeys.decode(stored)
        switch (decoded?.family, decoded?.timestamp) {
        case (.lock?, _):
            text("record", "LOCK")
            if let lock = try? LockRecord(decoding: value) {
                text("kind", lock.kind.word)
                field("start_ts", lock.startTS)
                text("start_time", Self.time(of: lock.startTS))
                field("ttl_ms", lock.ttl)
                bytes("primary", lock.primary)
            } else {
                bytes("undecodable", value)
            }
        case (.write?, let commitTS?):
            text("record", "WRITE")
            field("commit_ts", commitTS)
            text("commit_time", Self.time(of: commitTS))
            if let write = try? WriteRecord(decoding: value) {
                text("kind", Self.word(write.kind))
                field("start_ts", write.startTS)
                if let short = write.shortValue { bytes("value", short) }  // kept inside the record
            } else {
                bytes("undecodable", value)
            }
        case (.data?, let startTS?):
            text("record", "DATA")
            field("start_ts", startTS)
            bytes("value", value)
        default:
            text("record", "UNKNOWN")
            bytes("key", stored)
            bytes("value", value)
        }
        switch output {
        case .json: StandardStreams.writeLine(line.text)
        case .text: StandardStreams.writeLine(words.joined(separator: " "))
        }
    }

    private static func word(_ kind: WriteRecord.Kind) -> String {
        switch kind {
        case .put: "put"
        case .delete: "delete"
        case .lock: "lock"
        case .rollback: "rollback"
        }
    }

    /// The physical part of a timestamp as UTC time, e.g. `2026-11-30T03:40:12.345Z`.
    static func time(of timestamp: UInt64) -> String {
        let milliseconds = TimestampOracle.physical(of: timestamp)
        var seconds = time_t(milliseconds / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let fraction = milliseconds % 1000
        let millis = fraction < 10 ? "00\(fraction)" : fraction < 100 ? "0\(fraction)" : "\(fraction)"
        let date = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
        return date + "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(millis)Z"
    }
}
