import KVClient
import KVEngine
import KVServer
import KVTestSupport
import Logging

/// A standalone store and server in a temporary directory, listening on a Unix socket.
/// Immutable after init; the store and server are thread-safe.
final class ServerFixture: @unchecked Sendable {
    let directory = TemporaryDirectory(prefix: "kvserver")
    let environment: Environment
    let store: StandaloneStore
    let server: NodeServer
    var address: NodeAddress { .unix(path: directory.file("node.sock")) }

    init() throws {
        environment = try Environment(path: directory.file("data"))
        store = StandaloneStore(environment: environment, identity: ["kvnode", "test"])
        server = NodeServer(
            store: store, configuration: .init(unixSocket: directory.file("node.sock"), threads: 2),
            logger: Logger(label: "test"))
        try server.start()
    }

    func client() throws -> NodeClient {
        try NodeClient(address: address, timeout: 20)
    }

    func connection() throws -> LineConnection {
        try LineConnection(to: address, timeout: 20)
    }

    deinit {
        server.shutdown()
        environment.close()
    }
}
