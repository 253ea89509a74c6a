import ArgumentParser
import KVCommandLine
import KVEngine
import RaftStore

/// `kvdump stat DIR`: per column family, the counts `mdb_stat` reports.
struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per column family: entries, B-tree depth, pages and bytes (as mdb_stat reports them).",
        discussion: """
            The counts are LMDB's. Committed writes still only in the log (flushed to LMDB within a second or so) \
            are reported on the last line, per region, as the range of entries a restart would replay.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let state = try DurableState(directory: directory)
        defer { state.close() }
        let environment = state.environment
        let info = try environment.info()
        switch output {
        case .text:
            StandardStreams.writeLine(
                pad("column family", 14) + pad("entries", 10) + pad("depth", 6) + pad("branch", 8) + pad("leaf", 8)
                    + pad("overflow", 9) + "bytes")
        case .json:
            break
        }
        for family in ColumnFamily.allCases {
            guard environment.hasColumnFamily(family) else { continue }
            let stats = try environment.statistics(of: family)
            switch output {
            case .text:
                StandardStreams.writeLine(
                    pad(family.rawValue, 14) + pad("\(stats.entries)", 10) + pad("\(stats.depth)", 6)
                        + pad("\(stats.branchPages)", 8) + pad("\(stats.leafPages)", 8)
                        + pad("\(stats.overflowPages)", 9) + "\(stats.bytes)")
            case .json:
                var line = JSONLine()
                line.add("cf", family.rawValue)
                line.add("entries", stats.entries)
                line.add("depth", stats.depth)
                line.add("branch_pages", stats.branchPages)
                line.add("leaf_pages", stats.leafPages)
                line.add("overflow_pages", stats.overflowPages)
                line.add("page_size", stats.pageSize)
                line.add("bytes", stats.bytes)
                StandardStreams.writeLine(line.text)
            }
        }
        switch output {
        case .text:
            StandardStreams.writeLine(
                "map_size=\(info.mapSize) last_page=\(info.lastPage) last_txn=\(info.lastTransaction) readers=\(info.readers)/\(info.maxReaders)")
            let unflushed = state.unflushedEntries.sorted { $0.key < $1.key }
                .map { "region \($0.key): entries \($0.value.lowerBound)...\($0.value.upperBound)" }
            StandardStreams.writeLine("unflushed: " + (unflushed.isEmpty ? "none" : unflushed.joined(separator: ", ")))
        case .json:
            var line = JSONLine()
            line.add("map_size", info.mapSize)
            line.add("last_page", info.lastPage)
            line.add("last_txn", info.lastTransaction)
            line.add("readers", info.readers)
            line.add("max_readers", info.maxReaders)
            line.add("unflushed_entries", state.unflushedEntries.values.reduce(0) { $0 + $1.count })
            StandardStreams.writeLine(line.text)
        }
    }
}
