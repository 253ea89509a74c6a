import ArgumentParser
import KVCommandLine
import KVEngine
import KVProtocol
import LogEngine
import Raft
import RaftStore

/// `kvdump log DIR`: the Raft entries in the log, decoded.
struct LogEntries: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "List the Raft entries still in the log, decoded.",
        discussion: """
            Text output is one line per entry: region, index, term, then its writes as PUT key value / DEL key \
            (protocol tokens), (empty) for a new leader's entry, or CONF_CHANGE. JSON output is one object per \
            entry with an "ops" array.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    @Option(help: "Only this region.")
    var region: UInt64?

    @Option(help: "Start at this index (default: the first still in the log).")
    var from: UInt64?

    @Option(help: "The most entries to list.")
    var limit: Int?

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let log = try openLogReadOnly(directory)
        defer { log.close() }
        if let region, !log.regions.contains(region) {
            throw ValidationError("region \(region) has nothing in the log (regions: \(log.regions.map(String.init).joined(separator: ", ")))")
        }
        var remaining = limit ?? .max
        for id in region.map({ [$0] }) ?? log.regions {
            var index = max(from ?? 0, log.firstIndex(of: id))
            let last = log.lastIndex(of: id)
            while index <= last && remaining > 0 {
                let batchEnd = min(last, index + 255)
                for entry in try log.entries(of: id, from: index, to: batchEnd + 1) {
                    emit(region: id, entry)
                    remaining -= 1
                    if remaining == 0 { break }
                }
                index = batchEnd + 1
            }
        }
    }

    private func emit(region: UInt64, _ entry: Entry) {
        var operations: [(String, [UInt8], [UInt8]?)] = []
        var note: String?
        switch entry.kind {
        case .confChange:
            if let change = try? ConfChange(decoding: entry.data) {
                note = "CONF_CHANGE \(change.kind == .addNode ? "add" : "remove") \(change.nodeID)"
            } else {
                note = "CONF_CHANGE (undecodable)"
            }
        case .normal where entry.data.isEmpty:
            note = "(empty)"
        case .normal:
            do {
                for operation in try WriteCommand(decoding: entry.data).operations {
                    switch operation {
                    case .put(let key, let value): operations.append(("PUT", key, value))
                    case .delete(let key): operations.append(("DEL", key, nil))
                    case .txn(let request):
                        // A transactional command, in its protocol form (its tokens are escaped already).
                        let line = String(decoding: Request.txn(request).encoded.dropLast(), as: UTF8.self)
                        note = note.map { $0 + "; " + line } ?? line
                    }
                }
            } catch {
                note = "(undecodable: \(error))"
            }
        }
        switch output {
        case .text:
            var line = "region \(region) index \(entry.index) term \(entry.term)"
            if let note { line += " " + note }
            for (verb, key, value) in operations {
                line += " \(verb) \(token(key))" + (value.map { " " + token($0) } ?? "")
            }
            StandardStreams.writeLine(line)
        case .json:
            var line = JSONLine()
            line.add("region", Int(region))
            line.add("index", Int(entry.index))
            line.add("term", Int(entry.term))
            line.add("kind", entry.kind == .normal ? "normal" : "conf_change")
            if let note { line.add("note", note) }
            let ops = operations.map { verb, key, value -> String in
                var op = JSONLine()
                op.add("op", verb.lowercased())
                op.addBytes("key", key)
                if let value { op.addBytes("value", value) }
                return op.text
            }
            line.addRaw("ops", json: "[" + ops.joined(separator: ",") + "]")
            StandardStreams.writeLine(line.text)
        }
    }
}
