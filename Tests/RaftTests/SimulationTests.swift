import Foundation
import KVTestSupport
import Raft
import RaftSimulation
import Testing

/// Seed budget for the simulator sweep. The default is sized so `swift test` (debug) stays within about
/// two minutes on a 2-core machine; `RAFT_SEEDS=N` raises it, `RAFT_SEED=S` replays exactly one seed.
enum SeedBudget {
    static let defaultSeeds = 2000
    static let shards = 4

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    static func seeds(shard: Int) -> [UInt64] {
        if let one = environment["RAFT_SEED"].flatMap(UInt64.init) {
            return shard == 0 ? [one] : []
        }
        let total = environment["RAFT_SEEDS"].flatMap(Int.init) ?? defaultSeeds
        return stride(from: shard, to: total, by: shards).map { UInt64($0) }
    }
}

@Suite("Seeded simulator", .timeLimit(.minutes(15)))  // ~1.5 min here; generous for slower CI machines
struct SimulationTests {
    @Test("safety after every step, liveness after healing", arguments: 0..<SeedBudget.shards)
    func sweep(shard: Int) async throws {
        // On a thread of its own: a shard computes for about a minute (see `onOwnThread`).
        let failure: String? = try await onOwnThread { Self.runShard(shard) }
        if let failure { Issue.record("\(failure)") }
    }

    /// Runs a shard's seeds; returns the first violation, described, or nil.
    private static func runShard(_ shard: Int) -> String? {
        var stats = (runs: 0, messages: 0, entries: UInt64(0), snapshots: 0, conf: 0, crashes: 0, reads: 0,
                     maxRecover: 0)
        CrashReporter.install
        defer { CrashReporter.running[shard] = .max }
        for seed in SeedBudget.seeds(shard: shard) {
            CrashReporter.running[shard] = seed
            let replay = SeedBudget.environment["RAFT_SEED"] != nil
            var options = SimulationOptions.standard(seed: seed)
            options.recordEvents = replay && SeedBudget.environment["RAFT_TRACE"] != nil
            let result = Simulator.run(seed: seed, options: options)
            if options.recordEvents {
                print(result.events.joined(separator: "\n"))
            }
            if let violation = result.violation {
                print("RAFT_SEED=\(seed) failed: \(violation)")
                return "RAFT_SEED=\(seed) nodes=\(options.nodeCount): \(violation)"
            }
            stats.runs += 1
            stats.messages += result.messagesSent
            stats.entries += result.committedEntries
            stats.snapshots += result.snapshotsSent
            stats.conf += result.confChangesApplied
            stats.crashes += result.crashes
            stats.reads += result.readsChecked
            stats.maxRecover = max(stats.maxRecover, result.ticksToRecover)
        }
        print("shard \(shard): \(stats)")
        return nil
    }

    @Test("the same seed gives the same trace")
    func determinism() {
        for seed: UInt64 in [7, 8, 9] {
            let a = Simulator.run(seed: seed, options: .standard(seed: seed))
            let b = Simulator.run(seed: seed, options: .standard(seed: seed))
            #expect(a.traceHash == b.traceHash)
            #expect(a.messagesSent == b.messagesSent)
            #expect(a.violation == nil)
        }
        let c = Simulator.run(seed: 10, options: .standard(seed: 10))
        let d = Simulator.run(seed: 13, options: .standard(seed: 13))
        #expect(c.traceHash != d.traceHash)
    }
}
