import ArgumentParser
import Dispatch
import KVClient
import KVCommandLine
import KVEngine
import KVProtocol
import KVServer
import Logging
import RaftStore

#if canImport(Glibc)
import Glibc
#endif

/// `kvnode`: a storage node, standalone (one region, one voter, no scheduler) or a member of a cluster that
/// `kvsched` coordinates.
struct KVNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvnode",
        abstract: "Run a storage node of the key-value store.",
        discussion: """
            With --standalone the node serves the whole key space by itself from its data directory: one \
            region whose Raft group has this node as its only voter, no scheduler. With --sched ADDR it is a \
            store of the cluster that kvsched at ADDR coordinates: the first node bootstraps the cluster, later \
            ones get replicas of regions from the scheduler, and a node restarted with the same directory \
            rejoins as the same store. It listens on 127.0.0.1:20160 unless --listen or --socket say \
            otherwise, and stops cleanly on SIGTERM or SIGINT. Every acknowledged write is in the Raft log on \
            disk (fdatasync) of a majority of the region's nodes before the answer is sent. See kvnode(1) and \
            kvproto(7).
            """,
        version: ToolkitVersion.release)

    @Flag(help: "Serve the whole key space alone, without a scheduler.")
    var standalone = false

    @Option(help: ArgumentHelp("The scheduler (kvsched) of the cluster to join: HOST:PORT or a socket path.", valueName: "addr"))
    var sched: String?

    @Option(help: ArgumentHelp(
        "The address other nodes and clients reach this node at (default: --listen, else --socket).", valueName: "addr"))
    var advertise: String?

    @Option(help: ArgumentHelp("Seconds between heartbeats to the scheduler.", valueName: "s"))
    var heartbeatInterval = 1.0

    @Option(help: ArgumentHelp(
        "Entries a leader keeps for a lagging follower before it sends a snapshot instead.", valueName: "entries"))
    var maxLogLag = 10_000

    @Option(help: ArgumentHelp(
        "A region whose keys and values pass this size is split in two (cluster nodes; e.g. 96M, 64K for tests).",
        valueName: "size"))
    var regionMaxSize = ByteSize(bytes: 96 << 20)

    @Option(help: ArgumentHelp(
        "How often old MVCC versions are collected in the regions led here (e.g. 30s; 0s for never).", valueName: "duration"))
    var gcInterval = DurationOption(milliseconds: 30_000)

    @Option(help: ArgumentHelp(
        "Standalone nodes: MVCC versions are kept this long (e.g. 10m; 0s: only SET_GC_SAFE_POINT moves the safe point). A cluster's comes from kvsched.",
        valueName: "duration"))
    var gcLifetime = DurationOption(milliseconds: 10 * 60_000)

    @Flag(help: "Obey FAULT requests that drop, delay or cut off Raft messages (for tests only).")
    var enableFaultInjection = false

    @Option(help: ArgumentHelp("Data directory; created when missing.", valueName: "dir"))
    var data: String

    @Option(help: ArgumentHelp("TCP address to listen on (port 0 picks a free port).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Unix socket path to listen on.", valueName: "path"))
    var socket: String?

    @Option(help: ArgumentHelp("Initial LMDB map size; it doubles when full (e.g. 16G).", valueName: "size"))
    var mapSize = ByteSize(bytes: 16 << 30)

    @Option(help: ArgumentHelp("Size of each Raft log segment file, preallocated (e.g. 32M).", valueName: "size"))
    var logSegmentSize = ByteSize(bytes: 32 << 20)

    @Option(help: ArgumentHelp(
        "Milliseconds between moves of applied writes from memory into LMDB (they are in the log already).",
        valueName: "ms"))
    var flushInterval = 1000

    @Option(help: "Event loop threads for connections (default: one per core).")
    var threads: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        guard standalone != (sched != nil) else {
            throw ValidationError("give exactly one of --standalone and --sched ADDR")
        }
        if standalone && (advertise != nil || enableFaultInjection) {
            throw ValidationError("--advertise and --enable-fault-injection are for cluster nodes (--sched)")
        }
        if let sched {
            do { _ = try NodeAddress(parsing: sched) } catch { throw ValidationError("--sched: \(error.message)") }
        }
        guard maxLogLag >= 1 else { throw ValidationError("--max-log-lag must be at least 1") }
        guard regionMaxSize.bytes >= 4 << 10 else { throw ValidationError("--region-max-size must be at least 4K") }
        guard heartbeatInterval >= 0.05 && heartbeatInterval <= 60 else {
            throw ValidationError("--heartbeat-interval must be 0.05 to 60 seconds")
        }
        if let tcp = try TCPAddressOption.parse(listen, socket: socket, defaultAddress: "127.0.0.1:20160"),
            sched != nil, advertise == nil, tcp.host == "0.0.0.0" || tcp.host == "::" || tcp.port == 0
        {
            throw ValidationError("a cluster node listening on \(tcp.host):\(tcp.port) needs --advertise HOST:PORT for its peers")
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if logSegmentSize.bytes < 64 << 10 { throw ValidationError("--log-segment-size must be at least 64K") }
        if logSegmentSize.bytes > 1 << 30 { throw ValidationError("--log-segment-size must be at most 1G") }
        guard (1...60_000).contains(flushInterval) else {
            throw ValidationError("--flush-interval must be 1 to 60000 milliseconds")
        }
    }

    func run() throws {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = Logger.Level(rawValue: logLevel) ?? .info
            return handler
        }
        let logger = Logger(label: "kvnode")
        let tcp = try TCPAddressOption.parse(listen, socket: socket, defaultAddress: "127.0.0.1:20160")

        var options = RaftStoreOptions()
        options.environment.mapSize = mapSize.bytes
        options.log.segmentSize = logSegmentSize.bytes
        options.flushMilliseconds = flushInterval
        options.maxLogLagEntries = maxLogLag
        options.regionMaxBytes = regionMaxSize.bytes
        options.gcIntervalSeconds = Double(gcInterval.milliseconds) / 1000
        options.gcLifetimeMilliseconds = gcLifetime.milliseconds
        let failed = DispatchSemaphore(value: 0)
        let store: RaftStore
        var link: SchedulerLink?
        var configuration: ClusterConfiguration?
        if let sched {
            let advertised = advertise ?? tcp.map { "\($0.host):\($0.port)" } ?? socket ?? "127.0.0.1:20160"
            let schedulerLink = SchedulerLink(address: try NodeAddress(parsing: sched), advertiseAddress: advertised, logger: logger)
            link = schedulerLink
            configuration = ClusterConfiguration(
                joinCluster: { try schedulerLink.joinCluster() },
                resolveStoreAddress: { schedulerLink.resolve($0) },
                cachedStoreAddress: { schedulerLink.cachedAddress($0) },
                advertiseAddress: advertised,
                learnStoreAddress: { schedulerLink.learn($0, address: $1) },
                allocateIDs: { count in try schedulerLink.allocateIDs(count: count) },
                regionsChanged: { schedulerLink.heartbeatNow() },
                gcSafePoint: { try schedulerLink.gcSafePoint() },
                enableFaultInjection: enableFaultInjection)
        }
        do {
            store = try RaftStore(
                directory: data, options: options, cluster: configuration,
                helloWords: ["kvnode", ToolkitVersion.release, "proto=\(ToolkitVersion.protocolRevision)",
                             sched == nil ? "mode=standalone" : "mode=cluster"],
                logger: logger, onFailure: { _ in failed.signal() })
        } catch let error as SchedulerLink.JoinError {
            throw KVNodeFailure(message: error.description)
        } catch {
            throw KVNodeFailure(message: "cannot open data directory \(data): \(error)")
        }
        if let link {
            // A node restarted while the scheduler is down serves its regions anyway (peers and clients with
            // cached routes reach it) and registers once the scheduler is back; a node that still has to
            // report its bootstrap waits for it.
            let mayDefer = store.bootstrapRegion == nil
            var deferred = false
            do {
                try link.confirmRegistration(of: store, timeout: mayDefer ? 5 : 60)
            } catch let error as SchedulerLink.JoinError where error.schedulerUnreachable && mayDefer {
                logger.warning("\(error.description); serving anyway and registering when the scheduler is back")
                deferred = true
            } catch {
                store.close()
                throw KVNodeFailure(message: "\(error)")
            }
            link.startHeartbeats(of: store, interval: heartbeatInterval, registerFirst: deferred)
        }
        if store.migratedFromUnreplicatedFormat {
            logger.notice("adopted a data directory without a Raft log: its keys are region 1's state at index 0")
        }
        // A standalone node waits for its own election and replay; a cluster node serves at once (requests for
        // regions without a leader get NOT_LEADER until one is elected).
        if sched == nil {
            guard store.waitUntilReady(timeout: 60) else {
                store.close()
                throw KVNodeFailure(message: "the node did not become ready: its region elected no leader")
            }
        }
        let server = NodeServer(
            store: store,
            configuration: .init(tcp: tcp, unixSocket: socket, threads: threads),
            logger: logger)
        let addresses: [String]
        do {
            addresses = try server.start().map(NodeServer.displayName)
        } catch {
            store.close()
            throw KVNodeFailure(message: "\(error)")
        }
        let termination = TerminationSignals(logger: logger) { server.shutdown() }
        // One line per address on stdout, so scripts and tests can find a port chosen with port 0.
        if sched != nil {
            StandardStreams.writeLine("kvnode \(ToolkitVersion.release) store \(store.storeIdentity.storeID) of cluster \(store.storeIdentity.clusterID), data \(data)")
        } else {
            StandardStreams.writeLine("kvnode \(ToolkitVersion.release) standalone, data \(data)")
        }
        for address in addresses { StandardStreams.writeLine("listening on \(address)") }
        StandardStreams.flush()
        // The garbage collector settles old locks as any reader would: through the transactional client, to
        // this node (standalone) or across the cluster.
        if let own = addresses.first {
            let target: OldLockResolver.Target = try sched.map { .cluster(try NodeAddress(parsing: $0)) }
                ?? .node(try NodeAddress(parsing: own.hasPrefix("unix:") ? String(own.dropFirst(5)) : own))
            let resolver = OldLockResolver(target)
            store.lockResolver.withLock { $0 = { lock in try resolver.resolve(lock) } }
        }

        // A storage failure stops the node too: a supervisor restarts it, and recovery reads the disk again.
        DispatchQueue.global().async {
            failed.wait()
            logger.critical("storage failed: shutting down")
            server.shutdown()
            termination.stop()
        }
        termination.wait()
        link?.stop()
        store.close()
        if let failure = store.stoppedByFailure {
            throw KVNodeFailure(message: "stopped after a storage failure: \(failure.message)")
        }
        logger.info("stopped")
    }
}

/// A start-up failure: exit status 1 and one line on stderr.
struct KVNodeFailure: ToolExit, CustomStringConvertible {
    let message: String
    var exitCode: Int32 { 1 }
    var description: String { message }
}

KVNode.runTool()

/// Settles the old locks the store's garbage collector finds, with a transactional client of its own.
final class OldLockResolver: @unchecked Sendable {
    /// Where the client connects.
    enum Target {
        case node(NodeAddress)
        case cluster(NodeAddress)
    }

    private let target: Target
    // Used by the store's GC queue only, one call at a time.
    private var client: TxnClient?

    init(_ target: Target) { self.target = target }

    /// Whether the lock's transaction is settled now (false: still running).
    func resolve(_ lock: LockInfo) throws -> Bool {
        do {
            let client = try self.client ?? makeClient()
            self.client = client
            return try client.resolve(lock)
        } catch {
            client = nil
            throw error
        }
    }

    private func makeClient() throws(KVClientError) -> TxnClient {
        switch target {
        case .node(let address): try TxnClient.node(address, timeout: 5)
        case .cluster(let scheduler): TxnClient.cluster(scheduler: scheduler, deadline: 5)
        }
    }
}
