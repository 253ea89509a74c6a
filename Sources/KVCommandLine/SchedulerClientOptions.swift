import ArgumentParser
import KVClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The options of commands that talk to the scheduler: which one, how to print, how long to wait.
public struct SchedulerClientOptions: ParsableArguments, Sendable {
    /// The scheduler's address as given, or `nil` for `$KV_SCHED` or the default.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Scheduler address: HOST:PORT or a Unix socket path (default: $KV_SCHED, else 127.0.0.1:20100).",
            valueName: "addr"))
    public var sched: String?

    /// The output format.
    @Option(name: [.customShort("o"), .long], help: "Output format: text or json.")
    public var output: OutputFormat = .text

    /// The bound on each network wait, in seconds.
    @Option(name: .long, help: ArgumentHelp("Seconds to wait for the scheduler before giving up.", valueName: "s"))
    public var timeout: Double = 10

    /// Defaults.
    public init() {}

    /// The options above that take a separate value.
    public static let optionsTakingValues: Set<String> = ["--sched", "-o", "--output", "--timeout"]

    /// The scheduler to talk to: `--sched`, else `$KV_SCHED`, else `127.0.0.1:20100`.
    ///
    /// - Throws: ``ToolFailure`` with the usage exit status when the address cannot be parsed.
    public func schedulerAddress() throws -> NodeAddress {
        let text = sched ?? getenv("KV_SCHED").map { String(cString: $0) }
        guard let text, !text.isEmpty else { return SchedulerClient.standardAddress }
        do {
            return try NodeAddress(parsing: text)
        } catch {
            throw ToolFailure(exitCode: ToolFailure.usage, message: error.message)
        }
    }

    public mutating func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be more than 0 seconds") }
    }
}
