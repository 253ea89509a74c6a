import ArgumentParser
import KVClient
import KVCommandLine
import KVProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `kvctl`: the client for people and shell scripts.
///
/// Exit codes: 0 ok, 1 not found, 2 usage error, 3 unreachable or timed out, 4 conflict or aborted,
/// 5 any other server error, 6 a write whose outcome is unknown.
@main
struct KVCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvctl",
        abstract: "Read and write the key-value store from the shell.",
        discussion: """
            The node is --node HOST:PORT or a Unix socket path, else $KV_NODE, else 127.0.0.1:20160. Cluster \
            commands (tso, cluster, store, region, operator) ask the scheduler: --sched ADDR, else $KV_SCHED, else \
            127.0.0.1:20100.
            Exit codes: 0 ok, 1 not found, 2 usage error, 3 unreachable or timed out, 4 conflict or aborted, \
            5 other server error, 6 a write whose outcome is unknown (sent, but no answer came). See kvctl(1).
            """,
        version: ToolkitVersion.release,
        subcommands: [
            Get.self, Put.self, Delete.self, Scan.self, Batch.self, Ping.self, Stats.self, TSO.self,
            ClusterCommand.self, StoreCommand.self, RegionCommand.self, OperatorCommand.self, SchedulerCommand.self,
            TxnCommand.self, GCCommand.self,
        ])

    static func main() {
        runTool(
            subcommands: [
                "get", "put", "delete", "scan", "batch", "ping", "stats", "tso", "cluster", "store", "region", "operator",
                "scheduler", "txn", "gc",
            ],
            optionsTakingValues: ClientOptions.optionsTakingValues,
            nestedSubcommands: [
                "cluster": ["status"], "store": ["list", "remove"], "region": ["list", "get", "split", "transfer-leader"],
                "operator": ["list"], "scheduler": ["list", "add", "remove"], "txn": ["get", "put", "delete"],
            ])
    }
}

/// A failure that ends `kvctl` with a given exit code and one line on stderr.
struct KVCtlFailure: ToolExit {
    static let notFound: Int32 = 1
    static let usage = ToolFailure.usage
    static let unreachable: Int32 = 3
    static let conflict: Int32 = 4
    static let serverError: Int32 = 5
    static let outcomeUnknown: Int32 = 6

    let exitCode: Int32
    let message: String

    /// The exit code and message for a client error.
    init(_ error: KVClientError) {
        message = error.message
        exitCode = Self.exitCode(for: error.kind)
    }

    init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    static func exitCode(for kind: KVClientError.Kind) -> Int32 {
        switch kind {
        case .invalidAddress: usage
        case .outcomeUnknown: outcomeUnknown
        case .unreachable, .timeout, .connectionClosed: unreachable
        case .server(let code) where code == .conflict || code == .aborted || code == .writeConflict: conflict
        case .server(let code) where code == .keyTooLarge || code == .valueTooLarge || code == .emptyKey: usage
        case .server, .badResponse: serverError
        }
    }
}

extension ClientOptions {
    /// The cluster (through `--sched` or `$KV_SCHED`) or the one node these options name.
    func connectKeyValue() throws -> any KeyValueClient {
        if let scheduler = try schedulerAddress() {
            return ClusterClient(scheduler: scheduler, deadline: timeout)
        }
        return try connect()
    }

    /// Connects to the node these options name, mapping failures to `kvctl` exit codes.
    func connect() throws -> NodeClient {
        let address = try nodeAddress()
        do {
            return try NodeClient(address: address, timeout: timeout)
        } catch {
            throw KVCtlFailure(error)
        }
    }
}

/// Runs a client call, mapping its failure to a `kvctl` exit code.
func clientCall<T>(_ body: () throws(KVClientError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw KVCtlFailure(error)
    }
}

/// Turns a key or value argument into bytes: as typed, or unescaped with `--escaped`.
func argumentBytes(_ text: String, escaped: Bool, what: String) throws -> [UInt8] {
    guard escaped else { return Array(text.utf8) }
    do {
        return try ProtocolToken.decode(Array(text.utf8)[...])
    } catch {
        throw ValidationError("\(what) is not validly escaped: \(error.message)")
    }
}

/// Checks a key against the protocol's limits before sending it (and, for the raw API, that it does not
/// start with byte 0xFF, the transactional key space).
func validateKey(_ key: [UInt8], raw: Bool = true) throws {
    do {
        if raw { try Request.checkRawKey(key) } else { try Request.checkKey(key) }
    } catch {
        throw KVCtlFailure(exitCode: KVCtlFailure.usage, message: "\(error.code.rawValue): \(error.message)")
    }
}

/// Whether stdout is a terminal (then values get a trailing newline).
var standardOutputIsTerminal: Bool { isatty(1) != 0 }
