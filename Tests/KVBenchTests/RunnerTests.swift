import Testing
@testable import KVBench

@Suite("The runner against an in-memory store", .timeLimit(.minutes(2)))
struct RunnerTests {
    private func run(
        _ workload: Workload, store: MemoryStore, clients: Int = 3, operations: Int = 3_000
    ) throws -> BenchmarkReport {
        var configuration = BenchmarkConfiguration(workload: workload)
        configuration.records = 500
        configuration.operations = operations
        configuration.clients = clients
        configuration.valueSize = 64
        configuration.maxScanLength = 10
        try configuration.validate()
        let runner = BenchmarkRunner(configuration: configuration) { () throws(DriverError) -> any StoreDriver in
            MemoryDriver(store: store)
        }
        let load = try runner.load()
        #expect(load.records == 500)
        return try runner.run(load: load)
    }

    @Test("every YCSB workload runs clean with exactly the operations asked", arguments: [Workload.a, .b, .c, .d, .e, .f])
    func cleanRuns(workload: Workload) throws {
        let report = try run(workload, store: MemoryStore())
        #expect(report.errors.total == 0, "\(report.errors.sorted)")
        #expect(report.successes == 3_000)
        #expect(report.latencies.reduce(0) { $0 + $1.summary.count } == 3_000)
        #expect(report.overall.count == 3_000)
        #expect(report.measuredSeconds > 0)
    }

    @Test("lost writes show up as errors, not as successes")
    func lostWrites() throws {
        let report = try run(.a, store: MemoryStore(dropEveryNthWrite: 7))
        #expect(report.errors.counts["missing-value", default: 0] + report.errors.counts["wrong-value", default: 0] > 0)
        #expect(report.successes + report.errors.total == 3_000)
        #expect(report.hadErrors)
    }

    @Test("truncated reads are wrong values")
    func truncatedReads() throws {
        let report = try run(.c, store: MemoryStore(truncateReads: true), operations: 300)
        #expect(report.errors.counts["wrong-value"] == 300)
        #expect(report.successes == 0)
    }

    @Test("transfers keep the total, and the final check says so")
    func transfers() throws {
        let report = try run(.txnTransfer, store: MemoryStore(), clients: 4, operations: 2_000)
        #expect(report.errors.total == 0)
        #expect(report.invariant?.hasSuffix("ok") == true)
    }

    @Test("a store that cannot be reached fails the run as unreachable")
    func unreachable() {
        var configuration = BenchmarkConfiguration(workload: .c)
        configuration.operations = 10
        let runner = BenchmarkRunner(configuration: configuration) { () throws(DriverError) -> any StoreDriver in
            throw DriverError(.unreachable, "no such store")
        }
        #expect(throws: BenchError.self) { try runner.run() }
    }

    @Test("options are validated")
    func validation() {
        var configuration = BenchmarkConfiguration(workload: .a)
        configuration.valueSize = 10
        #expect(throws: BenchError.self) { try configuration.validate() }
        configuration.valueSize = 100
        configuration.readRatio = 1.5
        #expect(throws: BenchError.self) { try configuration.validate() }
        configuration.readRatio = 0.5
        configuration.clients = 0
        #expect(throws: BenchError.self) { try configuration.validate() }
    }
}
