import ArgumentParser
import KVClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options every client command takes: which node, how to print, how long to wait.
public struct ClientOptions: ParsableArguments, Sendable {
    /// The node's address as given, or `nil` for `$KV_NODE` or the default.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Node address: HOST:PORT or a Unix socket path (default: $KV_NODE, else 127.0.0.1:20160).",
            valueName: "addr"))
    public var node: String?

    /// The scheduler's address as given: requests are routed across the cluster instead of to one node.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Route requests through the cluster whose scheduler is at HOST:PORT or a socket path (default: $KV_SCHED when --node is not given).",
            valueName: "addr"))
    public var sched: String?

    /// The output format.
    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    public var output: OutputFormat = .text

    /// The bound on each network wait, in seconds.
    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the node before giving up.", valueName: "s"))
    public var timeout: Double = 10

    /// Defaults.
    public init() {}

    /// The options above that take a separate value (for ``subcommandFirst(_:subcommands:optionsTakingValues:)``).
    public static let optionsTakingValues: Set<String> = ["--node", "--sched", "-o", "--output", "--timeout"]

    /// The scheduler to route through: `--sched`, else `$KV_SCHED` unless `--node` was given; nil for one node.
    ///
    /// - Throws: ``ToolFailure`` with the usage exit status when the address cannot be parsed.
    public func schedulerAddress() throws -> NodeAddress? {
        let text = sched ?? (node == nil ? getenv("KV_SCHED").map { String(cString: $0) } : nil)
        guard let text, !text.isEmpty else { return nil }
        do {
            return try NodeAddress(parsing: text)
        } catch {
            throw ToolFailure(exitCode: ToolFailure.usage, message: error.message)
        }
    }

    /// The node to talk to: `--node`, else `$KV_NODE`, else `127.0.0.1:20160`.
    ///
    /// - Throws: ``ToolFailure`` with the usage exit status when the address cannot be parsed.
    public func nodeAddress() throws -> NodeAddress {
        let text = node ?? getenv("KV_NODE").map { String(cString: $0) }
        guard let text, !text.isEmpty else { return .standard }
        do {
            return try NodeAddress(parsing: text)
        } catch {
            throw ToolFailure(exitCode: ToolFailure.usage, message: error.message)
        }
    }

    public mutating func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
        guard node == nil || sched == nil else { throw ValidationError("give --node or --sched, not both") }
    }
}
