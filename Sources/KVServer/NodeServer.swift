import KVProtocol
import Logging
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The network front end of a node: listens on TCP and/or a Unix socket and serves the line protocol.
///
/// ```swift
/// let server = NodeServer(store: store, configuration: .init(tcp: ("127.0.0.1", 20160)))
/// let addresses = try server.start()
/// server.waitUntilClosed()
/// ```
public final class NodeServer {
    /// Where to listen.
    public struct Configuration: Sendable {
        /// TCP host and port (port 0 picks a free one), or `nil` for none.
        public var tcp: (host: String, port: Int)?
        /// A Unix socket path, or `nil` for none.
        public var unixSocket: String?
        /// Event loop threads for connections.
        public var threads: Int

        /// Creates a configuration.
        ///
        /// - Parameters:
        ///   - tcp: TCP host and port, or `nil`.
        ///   - unixSocket: Unix socket path, or `nil`.
        ///   - threads: Event loop threads, or `nil` for one per core.
        public init(tcp: (host: String, port: Int)? = nil, unixSocket: String? = nil, threads: Int? = nil) {
            self.tcp = tcp
            self.unixSocket = unixSocket
            self.threads = threads ?? System.coreCount
        }
    }

    /// An error starting the server.
    public struct StartError: Error, CustomStringConvertible {
        /// What went wrong.
        public let description: String
    }

    private let store: any NodeService
    private let configuration: Configuration
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup
    private var listeners: [Channel] = []
    private let shutDown = Atomic<Bool>(false)

    /// Creates a server; nothing listens until ``start()``.
    ///
    /// - Parameters:
    ///   - store: The service answering requests.
    ///   - configuration: Where to listen.
    ///   - logger: Where connection-level events go.
    public init(store: any NodeService, configuration: Configuration, logger: Logger = Logger(label: "kvnode")) {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
    }

    /// Binds the listeners.
    ///
    /// - Returns: The bound addresses (TCP first), with the real port when port 0 was asked for.
    /// - Throws: ``StartError`` when an address is in use, a live server owns the Unix socket path, or nothing
    ///   was configured to listen on.
    @discardableResult
    public func start() throws -> [SocketAddress] {
        guard configuration.tcp != nil || configuration.unixSocket != nil else {
            throw StartError(description: "nothing to listen on: give a TCP address or a Unix socket path")
        }
        let bootstrap = makeBootstrap()
        do {
            if let (host, port) = configuration.tcp {
                listeners.append(try bootstrap.bind(host: host, port: port).wait())
            }
            if let path = configuration.unixSocket {
                try Self.removeStaleSocket(path)
                listeners.append(try bootstrap.bind(unixDomainSocketPath: path).wait())
            }
        } catch let error as StartError {
            shutdown()
            throw error
        } catch {
            shutdown()
            throw StartError(description: "cannot listen: \(error)")
        }
        return listeners.compactMap(\.localAddress)
    }

    /// An address as the servers print it: `HOST:PORT`, or `unix:PATH` for a Unix socket.
    public static func displayName(of address: SocketAddress) -> String {
        if let path = address.pathname { return "unix:\(path)" }
        return "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    }

    /// Blocks until every listener has closed (after ``shutdown()``).
    public func waitUntilClosed() {
        for listener in listeners { try? listener.closeFuture.wait() }
    }

    /// Stops accepting connections, lets the service finish the writes already queued (``NodeService/stop()``),
    /// closes connections and stops the event loops. Idempotent.
    public func shutdown() {
        // Only once: a second close of the listeners would wait forever on event loops already gone (a signal
        // and a storage failure may both ask for it).
        guard !shutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        for listener in listeners { try? listener.close().wait() }
        store.stop()
        try? group.syncShutdownGracefully()
        if let path = configuration.unixSocket { unlink(path) }
    }

    private func makeBootstrap() -> ServerBootstrap {
        let store = self.store
        let logger = self.logger
        // While the store is busy, every connection's writes are handed to it from one event loop, so that the
        // writes all loops read during a round share the next one (one log sync) instead of each loop leading
        // rounds of its own (measured, 16 clients: 19.2k durable PUT/s against 16.9k).
        let writeLoop = group.next()
        return ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .childChannelOption(ChannelOptions.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if channel.localAddress?.protocol != .unix {
                        try? channel.syncOptions?.setOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                    }
                    try channel.pipeline.syncOperations.addHandler(ConnectionHandler(store: store, logger: logger, writeLoop: writeLoop))
                }
            }
    }

    /// Removes a socket file left by a server that died, but refuses to steal one a live server answers on.
    private static func removeStaleSocket(_ path: String) throws {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard (info.st_mode & S_IFMT) == S_IFSOCK else {
            throw StartError(description: "\(path) exists and is not a socket")
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw StartError(description: "socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        if connected == 0 {
            throw StartError(description: "another server is listening on \(path)")
        }
        unlink(path)
    }
}

// MARK: - Sendable

// `listeners` is written only by start() and shutdown(), which the owner calls from one thread.
extension NodeServer: @unchecked Sendable {}
