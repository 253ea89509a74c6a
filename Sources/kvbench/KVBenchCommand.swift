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
        subcommands: [Run.self, Load.self, Check.self])

    static func main() {
        runTool(
            subcommands: ["run", "load", "check"],
            optionsTakingValues: ClientOptions.optionsTakingValues.union([
                "--sched", "--target", "--url", "--records", "--ops", "--duration", "--clients", "--value-size",
                "--key-dist", "--seed", "--warmup", "--read-ratio", "--server-pid", "--keys", "--delete-ratio",
                "--history",
            ]))
    }
}

/// A failure that ends `kvbench` with an exit code and one line on stderr.
struct BenchFailure: ToolExit {
    static let usage = ToolFailure.usage
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
