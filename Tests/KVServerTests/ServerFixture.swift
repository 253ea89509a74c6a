import KVClient
import KVServer
import KVTestSupport
import Logging
import RaftStore

/// A standalone raftstore and server in a temporary directory, listening on a Unix socket.
/// Immutable after init; the store and server are thread-safe.
final class ServerFixture: @unchecked Sendable {
    let directory = TemporaryDirectory(prefix: "kvserver")
    let store: RaftStore
    let server: NodeServer
    var address: NodeAddress { .unix(path: directory.file("node.sock")) }

    init() throws {
        var options = RaftStoreOptions()
        options.log.segmentSize = 1 << 20
        store = try RaftStore(directory: directory.file("data"), options: options, helloWords: ["kvnode", "test"])
        guard store.waitUntilReady(timeout: 30) else { throw FixtureError.notReady }
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
        store.close()
    }
}

enum FixtureError: Error {
    case notReady
}
