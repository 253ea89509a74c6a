import Foundation
import ArgumentParser
import KVClient
import KVCommandLine
import KVProtocol

extension ClientOptions {
    /// Connects to the scheduler (`--sched`, else `$KV_SCHED`, else 127.0.0.1:20100), mapping failures to
    /// `kvctl` exit codes; `--node` makes no sense for cluster commands and is refused.
    func connectScheduler() throws -> SchedulerClient {
        if node != nil {
            throw KVCtlFailure(exitCode: KVCtlFailure.usage, message: "cluster commands ask the scheduler: give --sched, not --node")
        }
        let address = try schedulerAddress() ?? SchedulerClient.standardAddress
        do {
            return try SchedulerClient(address: address, timeout: timeout)
        } catch {
            throw KVCtlFailure(error)
        }
    }
}

/// `kvctl tso`: fresh timestamps from the scheduler's oracle.
struct TSO: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tso",
        abstract: "Print a fresh timestamp from the scheduler (physical milliseconds << 18 | logical).")

    @Option(help: "How many consecutive timestamps to reserve; the first is printed.")
    var count = 1

    @OptionGroup var scheduler: ClientOptions

    func validate() throws {
        guard (1...SchedulerRequest.maxBatch).contains(count) else {
            throw ValidationError("--count must be 1...\(SchedulerRequest.maxBatch)")
        }
    }

    func run() throws {
        let client = try scheduler.connectScheduler()
        let first = try clientCall { () throws(KVClientError) in try client.timestamps(count: count) }
        let physical = first >> 18
        let logical = first & ((1 << 18) - 1)
        switch scheduler.output {
        case .text:
            StandardStreams.writeLine(String(first))
        case .json:
            var line = JSONLine()
            line.add("timestamp", Int(first))
            line.add("count", count)
            line.add("physical_ms", Int(physical))
            line.add("logical", Int(logical))
            StandardStreams.writeLine(line.text)
        }
    }
}

/// `kvctl cluster status`.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "The cluster as the scheduler sees it.", subcommands: [Status.self])

    /// `kvctl cluster status`: the cluster id, stores up and down, regions, leaders per store.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cluster id, stores up and down, regions, and regions and leaders per store.")

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let client = try scheduler.connectScheduler()
            let (info, stores) = try clientCall { () throws(KVClientError) in
                (try client.clusterInfo(), try client.stores())
            }
            let up = stores.filter { $0.state == "up" }.count
            switch scheduler.output {
            case .text:
                StandardStreams.writeLine("cluster \(info.clusterID): " + (info.bootstrapped ? "bootstrapped" : "not bootstrapped"))
                StandardStreams.writeLine("stores: \(stores.count) (\(up) up, \(stores.count - up) not)")
                StandardStreams.writeLine("regions: \(info.regions)")
                if !stores.isEmpty {
                    StandardStreams.writeLine("")
                    var table = TextTable(["STORE", "ADDRESS", "STATE", "REGIONS", "LEADERS"])
                    for store in stores {
                        table.append([
                            String(store.descriptor.id), store.descriptor.address, store.state,
                            String(store.regionCount), String(store.leaderCount),
                        ])
                    }
                    table.print()
                }
            case .json:
                var line = JSONLine()
                line.add("cluster_id", String(info.clusterID))
                line.add("bootstrapped", info.bootstrapped)
                line.add("stores", stores.count)
                line.add("stores_up", up)
                line.add("regions", Int(info.regions))
                line.addRaw("store_list", json: "[" + stores.map(storeJSON).joined(separator: ",") + "]")
                StandardStreams.writeLine(line.text)
            }
        }
    }
}

/// `kvctl store list`.
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The cluster's stores.", subcommands: [List.self, Remove.self])

    /// `kvctl store list`: every store with its state and counts.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every store with its state, regions and leaders.")

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let client = try scheduler.connectScheduler()
            let stores = try clientCall { () throws(KVClientError) in try client.stores() }
            switch scheduler.output {
            case .text:
                var table = TextTable(["ID", "ADDRESS", "STATE", "REGIONS", "LEADERS", "CAPACITY", "AVAILABLE", "LAST_HEARTBEAT"])
                for store in stores {
                    table.append([
                        String(store.descriptor.id), store.descriptor.address, store.state, String(store.regionCount),
                        String(store.leaderCount), String(store.capacity), String(store.available),
                        "\(Double(store.lastHeartbeatMilliseconds) / 1000)s ago",
                    ])
                }
                table.print()
            case .json:
                for store in stores { StandardStreams.writeLine(storeJSON(store)) }
            }
        }
    }
}

extension StoreCommand {
    /// `kvctl store remove ID`: drains a store.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Drain a store: its replicas move to other stores; it is a tombstone once it holds none.",
            discussion: """
                Prints OK once the scheduler marked the store; with --wait, once the store holds no replica \
                (state tombstone), or exits 3 after that many seconds. The node itself keeps running: stop it \
                when it is a tombstone.
                """)

        @Argument(help: "The store id.")
        var id: UInt64

        @Option(help: ArgumentHelp("Seconds to wait until the store is empty (0: do not wait).", valueName: "s"))
        var wait: Double = 0

        @OptionGroup var scheduler: ClientOptions

        func validate() throws {
            guard wait >= 0 && wait <= 86_400 else { throw ValidationError("--wait must be 0 to 86400 seconds") }
        }

        func run() throws {
            let client = try scheduler.connectScheduler()
            try clientCall { () throws(KVClientError) in _ = try client.removeStore(id) }
            try waitUntil(wait, pause: 0.2, failure: "store \(id) still holds replicas after \(wait) s") { () throws(KVClientError) in
                try client.stores().first { $0.descriptor.id == id }?.state == "tombstone"
            }
            printOK(scheduler.output, ["store": id])
        }
    }
}

/// `kvctl region list|get`.
struct RegionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "region", abstract: "The cluster's regions.", subcommands: [List.self, Get.self, Split.self, TransferLeader.self])

    /// `kvctl region list`: regions in key order.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List regions in key order.")

        @Option(help: "List from the region holding this key.")
        var start: String = ""

        @Option(help: "The most regions to list.")
        var limit = SchedulerRequest.defaultRegionLimit

        @OptionGroup var scheduler: ClientOptions

        func validate() throws {
            guard (1...ProtocolLimits.maxScanLimit).contains(limit) else {
                throw ValidationError("--limit must be 1...\(ProtocolLimits.maxScanLimit)")
            }
        }

        func run() throws {
            let client = try scheduler.connectScheduler()
            let regions = try clientCall { () throws(KVClientError) in
                try client.regions(from: Array(start.utf8), limit: limit)
            }
            printRegions(regions, format: scheduler.output)
        }
    }

    /// `kvctl region get KEY`: the region holding a key.
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the region holding a key, and its leader.")

        @Argument(help: "The key.")
        var key: String

        @Flag(help: "The key is escaped as in kvproto(7) (%XX for bytes).")
        var escaped = false

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let bytes = try argumentBytes(key, escaped: escaped, what: "key")
            let client = try scheduler.connectScheduler()
            let region = try clientCall { () throws(KVClientError) in try client.region(containing: bytes) }
            printRegions([region], format: scheduler.output)
        }
    }
}

extension RegionCommand {
    /// `kvctl region split KEY`: splits the region holding a key so that a new region starts there.
    struct Split: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Split the region holding a key so that a new region starts at the key.",
            discussion: """
                The region's leader gets new ids from the scheduler and proposes the split through Raft; this \
                prints the two regions once the split applied (the left one keeps the id). A key where a region \
                already starts changes nothing and prints the regions as they are.
                """)

        @Argument(help: "The first key of the new region.")
        var key: String

        @Flag(help: "The key is escaped as in kvproto(7) (%XX for bytes).")
        var escaped = false

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let bytes = try argumentBytes(key, escaped: escaped, what: "key")
            guard scheduler.node == nil, let address = try scheduler.schedulerAddress() else {
                throw KVCtlFailure(exitCode: KVCtlFailure.usage, message: "splits are cluster commands: give --sched (or $KV_SCHED), not --node")
            }
            let cluster = ClusterClient(scheduler: address, deadline: scheduler.timeout)
            let regions = try clientCall { () throws(KVClientError) in try cluster.split(at: bytes) }
            printRegions(
                regions.map { SchedulerClient.RegionRecord(region: $0) }, format: scheduler.output)
        }
    }
}

extension RegionCommand {
    /// `kvctl region transfer-leader REGION STORE`: moves a region's leadership to its peer on a store.
    struct TransferLeader: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "transfer-leader",
            abstract: "Move a region's leadership to its peer on a store (through a scheduler operator).",
            discussion: """
                Queues the operator and prints OK; with --wait, also waits (up to that many seconds) until the \
                scheduler reports the new leader, and exits 3 if it does not in time.
                """)

        @Argument(help: "The region id.")
        var region: UInt64

        @Argument(help: "The store that should lead it.")
        var store: UInt64

        @Option(help: ArgumentHelp("Seconds to wait until the leader moved (0: do not wait).", valueName: "s"))
        var wait: Double = 0

        @OptionGroup var scheduler: ClientOptions

        func validate() throws {
            guard wait >= 0 && wait <= 3600 else { throw ValidationError("--wait must be 0 to 3600 seconds") }
        }

        func run() throws {
            let client = try scheduler.connectScheduler()
            try clientCall { () throws(KVClientError) in _ = try client.transferLeader(region: region, to: store) }
            try waitUntil(wait, pause: 0.1, failure: "region \(region) is not led by store \(store) after \(wait) s") { () throws(KVClientError) in
                try client.region(id: region).leaderStoreID == store
            }
            printOK(scheduler.output, ["region": region, "store": store])
        }
    }
}

/// `kvctl operator list`.
struct OperatorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator", abstract: "The scheduler's running operators.", subcommands: [List.self])

    /// `kvctl operator list`: what the scheduler is changing, per region.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the running operators.")

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let client = try scheduler.connectScheduler()
            let operators = try clientCall { () throws(KVClientError) in try client.operators() }
            printFieldRecords(operators, columns: ["region", "kind", "peer", "store", "reason", "age_ms"], format: scheduler.output)
        }
    }
}

/// `kvctl scheduler list|add|remove`.
struct SchedulerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "The scheduler's balance schedulers (balance-leader, balance-region).",
        subcommands: [List.self, Add.self, Remove.self])

    /// `kvctl scheduler list`: each balance scheduler, whether it runs, and its operators in flight.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the balance schedulers.")

        @OptionGroup var scheduler: ClientOptions

        func run() throws {
            let client = try scheduler.connectScheduler()
            let schedulers = try clientCall { () throws(KVClientError) in try client.schedulers() }
            printFieldRecords(schedulers, columns: ["name", "enabled", "running"], format: scheduler.output)
        }
    }

    /// `kvctl scheduler add NAME`: turns a balance scheduler on.
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Turn a balance scheduler on (kept across restarts).")

        @Argument(help: "balance-leader or balance-region.")
        var name: String

        @OptionGroup var scheduler: ClientOptions

        func run() throws { try SchedulerCommand.set(name, enabled: true, options: scheduler) }
    }

    /// `kvctl scheduler remove NAME`: turns a balance scheduler off; its running operators finish.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Turn a balance scheduler off (kept across restarts); operators it started finish.")

        @Argument(help: "balance-leader or balance-region.")
        var name: String

        @OptionGroup var scheduler: ClientOptions

        func run() throws { try SchedulerCommand.set(name, enabled: false, options: scheduler) }
    }
}

extension SchedulerCommand {
    /// Turns a scheduler on or off and prints OK.
    static func set(_ name: String, enabled: Bool, options: ClientOptions) throws {
        let client = try options.connectScheduler()
        try clientCall { () throws(KVClientError) in _ = try client.setScheduler(name, enabled: enabled) }
        printOK(options.output, [:], text: ["scheduler": name])
    }
}

/// Prints records of `name=value` fields as a table or JSON lines (numbers as numbers).
private func printFieldRecords(_ records: [ProtocolFields], columns: [String], format: OutputFormat) {
    switch format {
    case .text:
        var table = TextTable(columns.map { $0.uppercased() })
        for fields in records {
            table.append(columns.map { fields[$0].map { String(decoding: $0, as: UTF8.self) } ?? "" })
        }
        table.print()
    case .json:
        for fields in records {
            var line = JSONLine()
            for column in columns {
                let text = fields[column].map { String(decoding: $0, as: UTF8.self) } ?? ""
                if let number = Int(text) { line.add(column, number) } else { line.add(column, text) }
            }
            StandardStreams.writeLine(line.text)
        }
    }
}

/// Polls `condition` every `pause` seconds for up to `seconds` (not at all when 0); past that, exit 3 with
/// `failure`.
private func waitUntil(
    _ seconds: Double, pause: Double, failure: String, _ condition: () throws(KVClientError) -> Bool
) throws {
    guard seconds > 0 else { return }
    let deadline = Date().addingTimeInterval(seconds)
    while try !clientCall(condition) {
        guard Date() < deadline else { throw KVCtlFailure(exitCode: KVCtlFailure.unreachable, message: failure) }
        usleep(UInt32(pause * 1_000_000))
    }
}

/// `OK`, or `{"ok":true, ...}` with the ids the command acted on.
private func printOK(_ format: OutputFormat, _ ids: KeyValuePairs<String, UInt64>, text: KeyValuePairs<String, String> = [:]) {
    switch format {
    case .text:
        StandardStreams.writeLine("OK")
    case .json:
        var line = JSONLine()
        line.add("ok", true)
        for (name, id) in ids { line.add(name, Int(id)) }
        for (name, value) in text { line.add(name, value) }
        StandardStreams.writeLine(line.text)
    }
}

private func printRegions(_ regions: [SchedulerClient.RegionRecord], format: OutputFormat) {
    switch format {
    case .text:
        var table = TextTable(["ID", "START", "END", "EPOCH", "PEERS", "LEADER", "LEADER_ADDRESS", "SIZE", "KEYS"])
        for record in regions {
            let region = record.region
            table.append([
                String(region.id), ProtocolToken.encodeString(region.startKey), ProtocolToken.encodeString(region.endKey),
                "\(region.epoch.confVersion)/\(region.epoch.version)",
                region.peers.map { "\($0.id)@\($0.storeID)" }.joined(separator: ","),
                record.leaderStoreID == 0 ? "-" : "\(record.leaderPeerID)@\(record.leaderStoreID)",
                record.leaderAddress.isEmpty ? "-" : record.leaderAddress, String(record.approximateSize),
                String(record.approximateKeys),
            ])
        }
        table.print()
    case .json:
        for record in regions {
            var line = JSONLine()
            line.add("id", Int(record.region.id))
            line.addBytes("start_key", record.region.startKey)
            line.addBytes("end_key", record.region.endKey)
            line.add("conf_version", Int(record.region.epoch.confVersion))
            line.add("version", Int(record.region.epoch.version))
            let peers = record.region.peers.map { "{\"id\":\($0.id),\"store_id\":\($0.storeID)}" }
            line.addRaw("peers", json: "[" + peers.joined(separator: ",") + "]")
            line.add("leader_peer", Int(record.leaderPeerID))
            line.add("leader_store", Int(record.leaderStoreID))
            line.add("leader_address", record.leaderAddress)
            line.add("size", Int(record.approximateSize))
            line.add("keys", Int(record.approximateKeys))
            StandardStreams.writeLine(line.text)
        }
    }
}

private func storeJSON(_ store: SchedulerClient.StoreRecord) -> String {
    var line = JSONLine()
    line.add("id", Int(store.descriptor.id))
    line.add("address", store.descriptor.address)
    line.add("state", store.state)
    line.add("regions", Int(store.regionCount))
    line.add("leaders", Int(store.leaderCount))
    line.add("capacity", Int(store.capacity))
    line.add("available", Int(store.available))
    line.add("last_heartbeat_ms", Int(store.lastHeartbeatMilliseconds))
    return line.text
}
