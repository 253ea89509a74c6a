import ArgumentParser
import Dispatch
import KVCommandLine
import KVEngine
import KVProtocol
import KVServer
import Logging
import RaftStore

#if canImport(Glibc)
import Glibc
#endif

/// `kvnode`: a storage node. For now it runs standalone: one region with one voter, no scheduler.
struct KVNode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvnode",
        abstract: "Run a storage node of the key-value store.",
        discussion: """
            With --standalone the node serves the whole key space by itself from its data directory: one \
            region whose Raft group has this node as its only voter, no scheduler. It listens on \
            127.0.0.1:20160 unless --listen or --socket say otherwise, and stops cleanly on SIGTERM or SIGINT. \
            Every acknowledged write is in the node's Raft log on disk (fdatasync) before the answer is sent. \
            See kvnode(1) and kvproto(7).
            """,
        version: ToolkitVersion.release)

    @Flag(help: "Serve the whole key space alone (the only mode until the cluster exists).")
    var standalone = false

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
        guard standalone else {
            throw ValidationError(
                "only standalone mode exists so far: run `kvnode --standalone --data DIR` (cluster mode comes with kvsched)")
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
        let failed = DispatchSemaphore(value: 0)
        let store: RaftStore
        do {
            store = try RaftStore(
                directory: data, options: options,
                helloWords: ["kvnode", ToolkitVersion.release, "proto=\(ToolkitVersion.protocolRevision)", "mode=standalone"],
                logger: logger, onFailure: { _ in failed.signal() })
        } catch {
            throw KVNodeFailure(message: "cannot open data directory \(data): \(error)")
        }
        if store.migratedFromUnreplicatedFormat {
            logger.notice("adopted a data directory without a Raft log: its keys are region 1's state at index 0")
        }
        guard store.waitUntilReady(timeout: 60) else {
            store.close()
            throw KVNodeFailure(message: "the node did not become ready: its region elected no leader")
        }
        let server = NodeServer(
            store: store,
            configuration: .init(tcp: tcp, unixSocket: socket, threads: threads),
            logger: logger)
        let addresses: [String]
        do {
            addresses = try server.start().map { address in
                if let path = address.pathname { return "unix:\(path)" }
                return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
            }
        } catch {
            store.close()
            throw KVNodeFailure(message: "\(error)")
        }

        let stopped = DispatchSemaphore(value: 0)
        var sources: [DispatchSourceSignal] = []
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                logger.info("signal \(signalNumber): shutting down")
                server.shutdown()
                stopped.signal()
            }
            source.resume()
            sources.append(source)
        }
        // One line per address on stdout, so scripts and tests can find a port chosen with port 0.
        StandardStreams.writeLine("kvnode \(ToolkitVersion.release) standalone, data \(data)")
        for address in addresses { StandardStreams.writeLine("listening on \(address)") }
        StandardStreams.flush()

        // A storage failure stops the node too: a supervisor restarts it, and recovery reads the disk again.
        DispatchQueue.global().async {
            failed.wait()
            logger.critical("storage failed: shutting down")
            server.shutdown()
            stopped.signal()
        }
        stopped.wait()
        store.close()
        _ = sources
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
