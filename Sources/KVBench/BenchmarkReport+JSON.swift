import KVCommandLine

extension BenchmarkReport {
    /// The report for programs: one JSON object on one line. Latencies are in microseconds, times in seconds.
    public var json: String {
        let configuration = configuration
        var object = JSONLine()
        object.add("kvbench", "run")
        object.add("target", configuration.target)
        object.add("workload", configuration.workload.rawValue)
        object.add("clients", configuration.clients)
        object.add("records", configuration.records)
        object.add("value_size", configuration.valueSize)
        object.add("key_distribution", configuration.distribution.rawValue)
        object.addRaw("seed", json: String(configuration.seed))
        object.addRaw("warmup_s", json: Format.fixed(configuration.warmup, 3))
        object.addRaw("measured_s", json: Format.fixed(measuredSeconds, 6))
        object.add("operations", successes)
        object.addRaw("ops_per_s", json: Format.fixed(operationsPerSecond, 2))
        object.add("errors", errors.total)
        object.add("warmup_errors", warmupErrors.total)
        var latencyObject = JSONLine()
        for (kind, summary) in latencies { latencyObject.addRaw(kind.rawValue, json: Self.json(summary)) }
        latencyObject.addRaw("all", json: Self.json(overall))
        object.addRaw("latency_us", json: latencyObject.text)
        object.addRaw("errors_by_kind", json: Self.json(errors))
        object.addRaw("warmup_errors_by_kind", json: Self.json(warmupErrors))
        object.addRaw("retries_by_kind", json: Self.json(retries))
        if let load {
            var loadObject = JSONLine()
            loadObject.add("records", load.records)
            loadObject.addRaw("seconds", json: Format.fixed(load.seconds, 3))
            loadObject.addRaw("per_s", json: Format.fixed(load.recordsPerSecond, 1))
            loadObject.add("connections", load.connections)
            object.addRaw("load", json: loadObject.text)
        } else {
            object.addNull("load")
        }
        object.addRaw("client_cpu_s", json: Format.fixed(clientCPUSeconds, 3))
        object.addRaw("client_cpu_cores", json: Format.fixed(cores(clientCPUSeconds), 3))
        if let serverCPUSeconds {
            object.addRaw("server_cpu_s", json: Format.fixed(serverCPUSeconds, 3))
            object.addRaw("server_cpu_cores", json: Format.fixed(cores(serverCPUSeconds), 3))
        } else {
            object.addNull("server_cpu_s")
            object.addNull("server_cpu_cores")
        }
        if let invariant { object.add("check", invariant) } else { object.addNull("check") }
        return object.text
    }

    static func json(_ summary: LatencySummary) -> String {
        var object = JSONLine()
        object.add("count", summary.count)
        object.add("min", Int(summary.minimum))
        object.add("p50", Int(summary.p50))
        object.add("p95", Int(summary.p95))
        object.add("p99", Int(summary.p99))
        object.add("p999", Int(summary.p999))
        object.add("max", Int(summary.maximum))
        object.addRaw("mean", json: Format.fixed(summary.mean, 1))
        return object.text
    }

    static func json(_ tally: Tally) -> String {
        var object = JSONLine()
        for entry in tally.sorted { object.add(entry.name, entry.count) }
        return object.text
    }
}
