import ArgumentParser
import KVCommandLine
import KVProtocol
import Scheduler

/// `kvdump sched DIR`: what a kvsched data directory holds.
struct SchedulerState: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sched",
        abstract: "A kvsched data directory: cluster id, TSO and id high-water marks, stores, regions.",
        discussion: """
            Read-only, so safe beside a running kvsched; it shows what is on disk, which is everything but \
            leaders, sizes and heartbeat times (those live in kvsched's memory; ask it with kvctl).
            """)

    @Argument(help: "The kvsched data directory.")
    var directory: String

    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    var output: OutputFormat = .text

    func run() throws {
        let contents: SchedulerStorage.Contents
        do {
            contents = try SchedulerStorage(directory: directory, readOnly: true).load()
        } catch {
            throw ToolFailure(exitCode: 1, message: error.message)
        }
        guard contents.clusterID != 0 else {
            throw ToolFailure(exitCode: 1, message: "\(directory) holds no kvsched state (a new or foreign LMDB directory)")
        }
        let regions = contents.regions.sorted { $0.startKey.lexicographicallyPrecedes($1.startKey) }
        switch output {
        case .text:
            StandardStreams.writeLine("cluster \(contents.clusterID): " + (contents.bootstrapped ? "bootstrapped" : "not bootstrapped"))
            StandardStreams.writeLine(
                "tso high-water mark \(contents.timestampLimit) ms (timestamps below \(contents.timestampLimit << 18))")
            StandardStreams.writeLine("id high-water mark \(contents.idLimit)")
            StandardStreams.writeLine("")
            var stores = TextTable(["STORE", "ADDRESS"])
            for store in contents.stores { stores.append([String(store.id), store.address]) }
            stores.print()
            StandardStreams.writeLine("")
            var table = TextTable(["REGION", "START", "END", "EPOCH", "PEERS"])
            for region in regions {
                table.append([
                    String(region.id), ProtocolToken.encodeString(region.startKey),
                    ProtocolToken.encodeString(region.endKey), "\(region.epoch.confVersion)/\(region.epoch.version)",
                    region.peers.map { "\($0.id)@\($0.storeID)" }.joined(separator: ","),
                ])
            }
            table.print()
        case .json:
            var line = JSONLine()
            line.add("cluster_id", String(contents.clusterID))
            line.add("bootstrapped", contents.bootstrapped)
            line.add("tso_limit_ms", Int(contents.timestampLimit))
            line.add("id_limit", Int(contents.idLimit))
            line.addRaw("stores", json: "[" + contents.stores.map { store in
                var object = JSONLine()
                object.add("id", Int(store.id))
                object.add("address", store.address)
                return object.text
            }.joined(separator: ",") + "]")
            line.addRaw("regions", json: "[" + regions.map { region in
                var object = JSONLine()
                object.add("id", Int(region.id))
                object.addBytes("start_key", region.startKey)
                object.addBytes("end_key", region.endKey)
                object.add("conf_version", Int(region.epoch.confVersion))
                object.add("version", Int(region.epoch.version))
                object.addRaw("peers", json: "[" + region.peers.map { "{\"id\":\($0.id),\"store_id\":\($0.storeID)}" }.joined(separator: ",") + "]")
                return object.text
            }.joined(separator: ",") + "]")
            StandardStreams.writeLine(line.text)
        }
    }
}
