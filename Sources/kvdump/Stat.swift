import ArgumentParser
import KVCommandLine
import KVEngine

/// `kvdump stat DIR`: per column family, the counts `mdb_stat` reports.
struct Stat: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per column family: entries, B-tree depth, pages and bytes (as mdb_stat reports them).")

    @Argument(help: "The data directory.")
    var directory: String

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let environment = try openReadOnly(directory)
        defer { environment.close() }
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
        case .json:
            var line = JSONLine()
            line.add("map_size", info.mapSize)
            line.add("last_page", info.lastPage)
            line.add("last_txn", info.lastTransaction)
            line.add("readers", info.readers)
            line.add("max_readers", info.maxReaders)
            StandardStreams.writeLine(line.text)
        }
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}
