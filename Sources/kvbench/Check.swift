import ArgumentParser
import Foundation
import KVBench
import KVClient
import KVCommandLine
import Linearizability

/// `kvbench check`: a linearizability check of a live node or cluster.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a live store for linearizability: concurrent reads, writes and deletes on a few keys.",
        discussion: """
            Clients run reads, writes and deletes of a few keys for --duration seconds, recording when each \
            operation started and ended and what it returned; then the history is checked against a register \
            per key (Wing-Gong search). Prints `linearizable` and exits 0, or prints the smallest offending \
            sub-history found and exits 5 (also when the search budget runs out: no verdict). Writes with an \
            unknown outcome count as possibly applied at any later time. Use --sched for a cluster (or \
            $KV_SCHED), --node for one node.
            """)

    @OptionGroup var client: ClientOptions

    @Option(help: "Concurrent clients.")
    var clients = 8

    @Option(help: "Keys the clients share.")
    var keys = 5

    @Option(help: "Seconds of load.")
    var duration = 10.0

    @Option(help: "Fraction of reads (0-1).")
    var readRatio = 0.5

    @Option(help: "Fraction of deletes (0-1, at most 1 - read ratio).")
    var deleteRatio = 0.1

    @Option(help: "Seed of the operation choices.")
    var seed: UInt64 = 1

    @Option(help: ArgumentHelp("Write the recorded history to this file (the checker's text format).", valueName: "file"))
    var history: String?

    func validate() throws {
        guard (1...256).contains(clients) else { throw ValidationError("--clients must be 1 to 256") }
        guard (1...10_000).contains(keys) else { throw ValidationError("--keys must be 1 to 10000") }
        guard duration > 0 && duration <= 3600 else { throw ValidationError("--duration must be more than 0 and at most 3600") }
        guard (0...1).contains(readRatio), (0...1).contains(deleteRatio), readRatio + deleteRatio <= 1 else {
            throw ValidationError("--read-ratio and --delete-ratio must be fractions adding up to at most 1")
        }
    }

    func run() throws {
        var configuration = ConsistencyCheck.Configuration()
        configuration.clients = clients
        configuration.keys = keys
        configuration.duration = duration
        configuration.readRatio = readRatio
        configuration.deleteRatio = deleteRatio
        configuration.seed = seed
        let timeout = client.timeout
        let makeClient: @Sendable () throws -> any KeyValueClient
        if let scheduler = try client.schedulerAddress() {
            // Reachability first, so an unreachable cluster is exit 3 rather than an empty history.
            do { _ = try SchedulerClient(address: scheduler, timeout: timeout).clusterInfo() } catch {
                throw BenchFailure(exitCode: BenchFailure.unreachable, message: error.message)
            }
            makeClient = { ClusterClient(scheduler: scheduler, deadline: timeout) }
        } else {
            let address = try client.nodeAddress()
            do { _ = try NodeClient(address: address, timeout: timeout) } catch {
                throw BenchFailure(exitCode: BenchFailure.unreachable, message: error.message)
            }
            makeClient = { try NodeClient(address: address, timeout: timeout) }
        }
        let report = ConsistencyCheck(configuration: configuration, makeClient: makeClient).run()
        if let history {
            do {
                try report.history.text.write(toFile: history, atomically: true, encoding: .utf8)
            } catch {
                throw BenchFailure(exitCode: 1, message: "cannot write \(history): \(error.localizedDescription)")
            }
        }
        let verdict: String
        switch report.result {
        case .linearizable: verdict = "linearizable"
        case .notLinearizable: verdict = "not-linearizable"
        case .unknown: verdict = "unknown"
        }
        switch client.output {
        case .json:
            var line = JSONLine()
            line.add("kvbench", "check")
            line.add("verdict", verdict)
            line.add("operations", report.history.operations.count)
            line.add("completed", report.completed)
            line.add("unknown", report.unknown)
            line.add("failed", report.failed)
            if case .notLinearizable(let violation) = report.result { line.add("violation", violation.description) }
            if case .unknown(let reason) = report.result { line.add("reason", reason) }
            StandardStreams.writeLine(line.text)
        case .text:
            StandardStreams.writeLine(
                "\(report.history.operations.count) operations by \(clients) clients on \(keys) keys: "
                    + "\(report.completed) completed, \(report.unknown) with unknown outcome, \(report.failed) refused and left out")
            StandardStreams.writeLine(report.result.description)
        }
        StandardStreams.flush()
        guard case .linearizable = report.result else {
            throw BenchFailure(exitCode: BenchFailure.runErrors, message: "")
        }
        guard report.completed > 0 else {
            throw BenchFailure(exitCode: BenchFailure.runErrors, message: "no operation completed: nothing was checked")
        }
    }
}
