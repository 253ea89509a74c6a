import ArgumentParser
import Dispatch
import KVCommandLine
import KVProtocol
import KVServer
import Logging
import Scheduler

#if canImport(Glibc)
import Glibc
#endif

/// `kvsched`: the scheduler and timestamp oracle of a cluster.
struct KVSched: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvsched",
        abstract: "Run the scheduler of a key-value cluster: ids, timestamps, the region map, replica placement.",
        discussion: """
            kvsched keeps the cluster's id, the map of regions (which key range lives on which stores), the \
            stores and their heartbeats, and hands out ids and timestamps. Its state lives in an LMDB \
            environment in --data; a restart loses nothing, and timestamps never go back. It listens on \
            127.0.0.1:20100 unless --listen or --socket say otherwise, and stops cleanly on SIGTERM or SIGINT. \
            See kvsched(1) and kvproto(7).
            """,
        version: ToolkitVersion.release)

    @Option(help: ArgumentHelp("Data directory; created when missing.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("TCP address to listen on (port 0 picks a free port).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Unix socket path to listen on.", valueName: "path"))
    var socket: String?

    @Option(help: "Replicas per region, on distinct stores (1-7).")
    var maxReplicas = 3

    @Option(help: ArgumentHelp("A store silent this long is shown as disconnected (e.g. 20s).", valueName: "duration"))
    var storeDisconnectTime = DurationOption(milliseconds: 20_000)

    @Option(help: ArgumentHelp("A store silent this long is down and its replicas are replaced (e.g. 30m).", valueName: "duration"))
    var maxStoreDownTime = DurationOption(milliseconds: 30 * 60_000)

    @Option(help: ArgumentHelp("An operator not done within this long is dropped (e.g. 60s).", valueName: "duration"))
    var operatorTimeout = DurationOption(milliseconds: 60_000)

    @Option(help: ArgumentHelp("MVCC versions are kept this long: the GC safe point trails the clock by it (e.g. 10m; 0s: only SET_GC_SAFE_POINT moves it).", valueName: "duration"))
    var gcLifetime = DurationOption(milliseconds: 10 * 60_000)

    @Option(help: "Event loop threads for connections.")
    var threads = 1

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        _ = try TCPAddressOption.parse(listen, socket: socket, defaultAddress: "127.0.0.1:20100")
        do {
            try schedulerOptions.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    private var schedulerOptions: SchedulerOptions {
        var options = SchedulerOptions()
        options.maxReplicas = maxReplicas
        options.storeDisconnectTime = storeDisconnectTime.milliseconds
        options.maxStoreDownTime = maxStoreDownTime.milliseconds
        options.operatorTimeout = operatorTimeout.milliseconds
        options.gcLifetime = gcLifetime.milliseconds
        return options
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "kvsched")
        let tcp = try TCPAddressOption.parse(listen, socket: socket, defaultAddress: "127.0.0.1:20100")
        let service: SchedulerService
        do {
            let storage = try SchedulerStorage(directory: data)
            service = try SchedulerService(storage: storage, options: schedulerOptions, logger: logger)
        } catch {
            throw ToolFailure(exitCode: 1, message: error.message)
        }
        let server = NodeServer(
            store: service, configuration: .init(tcp: tcp, unixSocket: socket, threads: threads), logger: logger)
        let addresses: [String]
        do {
            addresses = try server.start().map(NodeServer.displayName)
        } catch {
            throw ToolFailure(exitCode: 1, message: "\(error)")
        }
        let termination = TerminationSignals(logger: logger) { server.shutdown() }
        StandardStreams.writeLine("kvsched \(ToolkitVersion.release) cluster \(service.clusterID), data \(data)")
        for address in addresses { StandardStreams.writeLine("listening on \(address)") }
        StandardStreams.flush()
        termination.wait()
        logger.info("stopped")
    }
}

KVSched.runTool()
