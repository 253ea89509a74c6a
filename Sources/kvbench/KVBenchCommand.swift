import ArgumentParser
import KVBench
import KVClient
import KVCommandLine
import KVProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `kvbench`: the load generator. Runs YCSB-style workloads against this project's node, Redis or etcd with
/// the same client code, and reports throughput and latency percentiles.
///
/// Exit codes: 0 ok, 2 usage error (or a feature that is not built yet), 3 store unreachable, 5 the run (or
/// its load phase) had errors.
@main
struct KVBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvbench",
        abstract: "Benchmark the key-value store (and Redis or etcd) with YCSB-style workloads.",
        discussion: """
            Workloads: a b c d e f (YCSB core), raw-put, raw-get, mixed (--read-ratio), txn-transfer. \
            `run` loads the records first (outside the timed window) unless --skip-load; `load` only loads. \
            Every answer is checked: a missing or wrong value is an error, not a success. \
            Exit codes: 0 ok, 2 usage, 3 unreachable, 5 the run had errors. See kvbench(1).
            """,
        version: ToolkitVersion.release,
        subcommands: [Run.self, Load.self])

    static func main() {
        do {
            var command = try parseAsRoot(subcommandFirst(Array(CommandLine.arguments.dropFirst())))
            try command.run()
            StandardStreams.flush()
            Glibc.exit(0)
        } catch let failure as BenchFailure {
            StandardStreams.flush()
            if !failure.message.isEmpty { StandardStreams.error("kvbench: \(failure.message)") }
            Glibc.exit(failure.exitCode)
        } catch {
            StandardStreams.flush()
            if exitCode(for: error) == .validationFailure {
                StandardStreams.error(fullMessage(for: error))
                Glibc.exit(BenchFailure.usage)
            }
            self.exit(withError: error)
        }
    }
}

/// Moves the subcommand (`run` or `load`) to the front, so options may come before it
/// (`kvbench --node X run a` as well as `kvbench run a --node X`).
func subcommandFirst(_ arguments: [String]) -> [String] {
    let takesValue: Set<String> = [
        "--sched", "--node", "--target", "--url", "--timeout", "-o", "--output", "--records", "--ops", "--duration",
        "--clients", "--value-size", "--key-dist", "--seed", "--warmup", "--read-ratio", "--server-pid",
    ]
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if argument == "run" || argument == "load" {
            guard index > 0 else { return arguments }
            var reordered = arguments
            reordered.remove(at: index)
            return [argument] + reordered
        }
        if takesValue.contains(argument) { index += 1 }
        index += 1
    }
    return arguments
}

/// A failure that ends `kvbench` with an exit code and one line on stderr.
struct BenchFailure: Error {
    static let usage: Int32 = 2
    static let unreachable: Int32 = 3
    static let runErrors: Int32 = 5

    let exitCode: Int32
    let message: String

    init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }

    init(_ error: BenchError) {
        message = error.message
        switch error.kind {
        case .usage: exitCode = Self.usage
        case .unreachable: exitCode = Self.unreachable
        case .loadFailed: exitCode = Self.runErrors
        }
    }
}
