import Testing
@testable import KVBench

@Suite("Latency histograms and reports", .timeLimit(.minutes(2)))
struct HistogramReportTests {
    @Test("percentiles of 1...1000 microseconds")
    func percentiles() {
        var recorder = LatencyRecorder()
        for value in 1...1_000 { recorder.record(microseconds: UInt64(value)) }
        let summary = recorder.summary
        #expect(summary.count == 1_000)
        #expect(summary.minimum == 1)
        #expect(summary.p50 == 500)
        #expect(summary.p95 == 950)
        #expect(summary.p99 == 990)
        #expect(summary.p999 == 999)
        #expect(summary.maximum == 1_000)
        #expect(abs(summary.mean - 500.5) < 1)
    }

    @Test("nanoseconds round to microseconds; merging adds counts; huge values are clamped")
    func recordAndMerge() {
        var first = LatencyRecorder()
        first.record(nanoseconds: 1_499)  // 1 µs
        first.record(nanoseconds: 200)  // rounds to 0, recorded as 1 µs
        var second = LatencyRecorder()
        second.record(nanoseconds: 2_000_000)  // 2 ms
        second.record(microseconds: 10 * LatencyRecorder.highestMicroseconds)
        first.merge(second)
        let summary = first.summary
        #expect(summary.count == 4)
        #expect(summary.minimum == 1)
        #expect(summary.p50 == 1)
        // HDR values are exact to 3 significant digits.
        #expect(summary.p95 >= 1_999 && summary.p95 <= 2_001 || summary.p95 >= LatencyRecorder.highestMicroseconds * 999 / 1000)
        #expect(summary.maximum >= LatencyRecorder.highestMicroseconds * 999 / 1000)
        #expect(LatencyRecorder().summary == LatencySummary())
    }

    @Test("a report computes ops/s and renders text and JSON with every figure")
    func report() throws {
        var configuration = BenchmarkConfiguration(workload: .a)
        configuration.clients = 4
        configuration.target = "kv 127.0.0.1:1"
        var reads = LatencyRecorder()
        for value in 1...100 { reads.record(microseconds: UInt64(value * 10)) }
        var errors = Tally()
        errors.add("missing-value", example: "no value for user1")
        errors.add("timeout", 2)
        var retries = Tally()
        retries.add("conflict", 3)
        let report = BenchmarkReport(
            configuration: configuration, load: LoadSummary(records: 10_000, seconds: 2, connections: 4),
            measuredSeconds: 2, successes: 100, latencies: [(.read, reads.summary)], overall: reads.summary,
            errors: errors, warmupErrors: Tally(), retries: retries, clientCPUSeconds: 0.5, serverCPUSeconds: 1.5,
            invariant: nil)
        #expect(report.operationsPerSecond == 50)
        #expect(report.hadErrors)

        let json = try JSONValue.parse(Array(report.json.utf8))
        #expect(json["workload"]?.text == "a")
        #expect(json["clients"]?.text == "4")
        #expect(json["ops_per_s"]?.text == "50.00")
        #expect(json["operations"]?.text == "100")
        #expect(json["errors"]?.text == "3")
        #expect(json["errors_by_kind"]?["timeout"]?.text == "2")
        #expect(json["retries_by_kind"]?["conflict"]?.text == "3")
        #expect(json["latency_us"]?["read"]?["p50"]?.text == "500")
        #expect(json["latency_us"]?["read"]?["p99"]?.text == "990")
        #expect(json["latency_us"]?["read"]?["max"]?.text == "1000")
        #expect(json["client_cpu_cores"]?.text == "0.250")
        #expect(json["server_cpu_cores"]?.text == "0.750")
        #expect(json["load"]?["per_s"]?.text == "5000.0")

        let text = report.text
        #expect(text.contains("50.0 ops/s"))
        #expect(text.contains("missing-value 1 (e.g. no value for user1)"))
        #expect(text.contains("conflict 3"))
        #expect(text.contains("server 1.50 s (0.75 cores)"))
    }

    @Test("number formatting")
    func formatting() {
        #expect(Format.fixed(1.005, 2) == "1.00" || Format.fixed(1.005, 2) == "1.01")
        #expect(Format.fixed(12.3456, 1) == "12.3")
        #expect(Format.fixed(0.05, 3) == "0.050")
        #expect(Format.fixed(-2.5, 0) == "-3" || Format.fixed(-2.5, 0) == "-2")
        #expect(Format.milliseconds(1_234) == "1.234")
    }

    @Test("CPU seconds from /proc/PID/stat, with a command name holding spaces")
    func procStat() {
        let line = "1234 (kv node) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 150 0 0 20 0 3 0 100 0 0"
        #expect(ProcessCPU.secondsFromStat(line, ticksPerSecond: 100) == 4)
        #expect(ProcessCPU.secondsFromStat("garbage", ticksPerSecond: 100) == nil)
        #expect(ProcessCPU.ownSeconds() > 0)
    }
}
