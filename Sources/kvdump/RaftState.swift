import ArgumentParser
import KVCommandLine
import KVEngine
import LogEngine
import RaftStore

/// `kvdump raft DIR`: the store's regions with their Raft state, and the log's segment files.
struct RaftState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "raft",
        abstract: "Regions, hard states, applied indexes, log ranges and segment files.",
        discussion: """
            Per region: its key range, epoch and peers; the Raft hard state (term, vote, commit); the index LMDB \
            has applied, and the entries a restart would replay; the entries still in the log, their bytes, and \
            where the log was compacted. Then every segment file with its data and live bytes.
            """)

    @Argument(help: "The data directory.")
    var directory: String

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let state = try DurableState(directory: directory)
        defer { state.close() }
        let meta = state.meta
        let log = state.log
        switch output {
        case .text:
            if let identity = meta.identity {
                StandardStreams.writeLine("store \(identity.storeID) of cluster \(identity.clusterID)")
            } else {
                StandardStreams.writeLine("no store identity: a directory from before the Raft log, adopted at the next start")
            }
        case .json:
            var line = JSONLine()
            line.add("store_id", Int(meta.identity?.storeID ?? 0))
            line.add("cluster_id", String(meta.identity?.clusterID ?? 0))  // a string: cluster ids use all 64 bits
            StandardStreams.writeLine(line.text)
        }
        for region in meta.regions.values.sorted(by: { $0.id < $1.id }) {
            let applied = meta.applied[region.id] ?? 0
            let hard = log?.hardState(of: region.id)
            let first = log?.firstIndex(of: region.id) ?? 1
            let last = log?.lastIndex(of: region.id) ?? 0
            let compacted: (index: UInt64, term: UInt64) = log?.compactionPoint(of: region.id) ?? (0, 0)
            let bytes = log?.entryBytes(of: region.id) ?? 0
            let replay = state.unflushedEntries[region.id]
            switch output {
            case .text:
                let peers = region.peers.map { "\($0.id)@store\($0.storeID)" }.joined(separator: ",")
                StandardStreams.writeLine(
                    "region \(region.id) [\(token(region.startKey)), \(token(region.endKey))) epoch "
                        + "\(region.epoch.confVersion)/\(region.epoch.version) peers \(peers)")
                StandardStreams.writeLine(
                    "  hard state  " + (hard.map { "term \($0.term) vote \($0.vote) commit \($0.commit)" } ?? "none"))
                StandardStreams.writeLine(
                    "  applied     \(applied) in LMDB; "
                        + (replay.map { "entries \($0.lowerBound)...\($0.upperBound) to replay" } ?? "nothing to replay"))
                let entries = last >= first ? "entries \(first)...\(last) (\(last - first + 1), \(bytes) bytes)" : "no entries"
                StandardStreams.writeLine("  log         \(entries), compacted to \(compacted.index) (term \(compacted.term))")
            case .json:
                var line = JSONLine()
                line.add("region", Int(region.id))
                line.addBytes("start_key", region.startKey)
                line.addBytes("end_key", region.endKey)
                line.add("conf_version", Int(region.epoch.confVersion))
                line.add("version", Int(region.epoch.version))
                line.addRaw("peers", json: "[" + region.peers.map { "{\"id\":\($0.id),\"store_id\":\($0.storeID)}" }.joined(separator: ",") + "]")
                line.add("term", Int(hard?.term ?? 0))
                line.add("vote", Int(hard?.vote ?? 0))
                line.add("commit", Int(hard?.commit ?? 0))
                line.add("applied_index", Int(applied))
                line.add("first_index", Int(first))
                line.add("last_index", Int(last))
                line.add("log_bytes", bytes)
                line.add("compacted_index", Int(compacted.index))
                line.add("compacted_term", Int(compacted.term))
                line.add("replay_entries", replay?.count ?? 0)
                StandardStreams.writeLine(line.text)
            }
        }
        guard let log else {
            if output == .text { StandardStreams.writeLine("no log directory") }
            return
        }
        let report = log.recovery
        switch output {
        case .text:
            StandardStreams.writeLine(pad("segment", 24) + pad("bytes", 12) + pad("data", 12) + pad("records", 10) + "live bytes")
            for segment in report.segments {
                StandardStreams.writeLine(
                    pad(LogFormat.segmentName(segment.id), 24) + pad("\(segment.fileSize)", 12) + pad("\(segment.dataEnd)", 12)
                        + pad("\(segment.records)", 10) + "\(segment.liveBytes)")
            }
            for path in report.emptySegments { StandardStreams.writeLine("empty (prepared ahead): \(path)") }
            if let cut = report.interruptedWrite {
                StandardStreams.writeLine(
                    "interrupted write: \(cut.path) offset \(cut.offset), \(cut.discardedBytes) bytes (\(cut.reason)); "
                        + "a live node is writing there, a stopped one cuts it off at its next start")
            }
        case .json:
            for segment in report.segments {
                var line = JSONLine()
                line.add("segment", LogFormat.segmentName(segment.id))
                line.add("file_bytes", segment.fileSize)
                line.add("data_bytes", segment.dataEnd)
                line.add("records", segment.records)
                line.add("live_bytes", segment.liveBytes)
                StandardStreams.writeLine(line.text)
            }
        }
    }
}
