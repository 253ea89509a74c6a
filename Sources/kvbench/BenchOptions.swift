import ArgumentParser
import KVBench
import KVClient
import KVCommandLine

/// The options of `run` and `load`.
struct BenchOptions: ParsableArguments {
    @OptionGroup var client: ClientOptions


    @Option(help: "The store: kv (this project), redis or etcd.")
    var target: StoreTarget = .kv

    @Option(help: ArgumentHelp(
        "The store's URL for --target redis or etcd (redis://HOST:PORT, http://HOST:PORT, unix:///path).",
        valueName: "url"))
    var url: String?

    @Option(help: "Records (or accounts for txn-transfer) in the key space.")
    var records = 10_000

    @Option(help: ArgumentHelp("Measured operations in all (instead of --duration).", valueName: "n"))
    var ops: Int?

    @Option(help: ArgumentHelp("Measured seconds, after the warmup (default: 10).", valueName: "s"))
    var duration: Double?

    @Option(help: "Client connections, each with one request in flight.")
    var clients = 1

    @Option(help: ArgumentHelp("Value size in bytes (at least \(RecordValue.minimumSize)).", valueName: "bytes"))
    var valueSize = 100

    @Option(help: "Key distribution: uniform, zipfian or latest (default: the workload's).")
    var keyDist: KeyDistribution?

    @Option(help: "Seed of the clients' random streams.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Seconds run before measuring starts.", valueName: "s"))
    var warmup = 0.0

    @Option(help: ArgumentHelp("Share of reads in the mixed workload.", valueName: "r"))
    var readRatio = 0.5

    @Option(help: ArgumentHelp("A server process whose CPU time to report alongside the client's.", valueName: "pid"))
    var serverPid: Int32?

    /// The run's definition.
    func configuration(workload: Workload, address: NodeAddress) throws -> BenchmarkConfiguration {
        var configuration = BenchmarkConfiguration(workload: workload)
        configuration.records = records
        configuration.operations = ops
        configuration.duration = duration ?? 10
        configuration.clients = clients
        configuration.valueSize = valueSize
        configuration.keyDistribution = keyDist
        configuration.seed = seed
        configuration.warmup = warmup
        configuration.readRatio = readRatio
        configuration.serverPID = serverPid
        configuration.target = "\(target.rawValue) \(address)"
        do {
            try configuration.validate()
        } catch {
            throw ValidationError(error.message)
        }
        return configuration
    }

    /// How to make drivers: through the cluster's scheduler (`--sched`, `$KV_SCHED`), or to one store.
    func driverFactory(workload: Workload) throws -> DriverFactory {
        if target == .kv, let scheduler = try client.schedulerAddress() {
            if url != nil { throw ValidationError("give --sched or --url, not both") }
            let timeout = client.timeout
            if workload.usesAccounts {
                let timestamps = TimestampBatcher { () throws(KVClientError) in try SchedulerClient(address: scheduler, timeout: timeout) }
                return { () throws(DriverError) -> any StoreDriver in
                    KVTxnDriver(client: TxnClient.cluster(scheduler: scheduler, deadline: timeout, timestamps: timestamps))
                }
            }
            return { () throws(DriverError) -> any StoreDriver in KVClusterDriver(scheduler: scheduler, timeout: timeout) }
        }
        if target != .kv && client.sched != nil {
            throw ValidationError("--sched names a kvsched; use --url for --target \(target.rawValue)")
        }
        return target.driverFactory(address: try address(), timeout: client.timeout, workload: workload)
    }

    /// The store's address (the scheduler's, when driving a cluster).
    func address() throws -> NodeAddress {
        if target == .kv, let scheduler = try client.schedulerAddress() { return scheduler }
        if let url {
            if target == .kv, client.node != nil { throw ValidationError("give --node or --url, not both") }
            do {
                return try StoreTarget.address(fromURL: url)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if target == .kv { return try client.nodeAddress() }
        if client.node != nil { throw ValidationError("--node names a kvnode; use --url for --target \(target.rawValue)") }
        return target.defaultAddress
    }

    /// Prints a report in the chosen format.
    func print(text: String, json: String) {
        StandardStreams.writeLine(client.output == .json ? json : text)
        StandardStreams.flush()
    }

    mutating func validate() throws {
        if ops != nil && duration != nil {
            throw ValidationError("give --ops or --duration, not both")
        }
    }
}
