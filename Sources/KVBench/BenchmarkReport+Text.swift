extension BenchmarkReport {
    /// The report for people: a header, then one line per operation kind with latencies in milliseconds.
    public var text: String {
        let configuration = configuration
        var lines: [String] = []
        lines.append(
            "kvbench \(configuration.workload.rawValue) against \(configuration.target): \(configuration.clients) "
                + "client\(configuration.clients == 1 ? "" : "s"), \(configuration.records) "
                + (configuration.workload.usesAccounts ? "accounts" : "records of \(configuration.valueSize) B")
                + ", \(configuration.distribution.rawValue) keys, seed \(configuration.seed)")
        if let load {
            lines.append(
                "load: \(load.records) in \(Format.fixed(load.seconds, 2)) s "
                    + "(\(Int(load.recordsPerSecond.rounded()))/s over \(load.connections) connection\(load.connections == 1 ? "" : "s"))")
        }
        lines.append(
            "run: \(successes) ops in \(Format.fixed(measuredSeconds, 2)) s after \(Format.fixed(configuration.warmup, 1)) s warmup: "
                + "\(Format.fixed(operationsPerSecond, 1)) ops/s, \(errors.total) error\(errors.total == 1 ? "" : "s")")
        lines.append(
            Format.left("latency (ms)", 14) + ["count", "min", "p50", "p95", "p99", "p99.9", "max"].map { Format.right($0, 10) }.joined())
        var rows = latencies.map { ($0.kind.rawValue, $0.summary) }
        if latencies.count > 1 { rows.append(("all", overall)) }
        for (name, summary) in rows {
            lines.append(
                Format.left(name, 14) + Format.right(String(summary.count), 10)
                    + [summary.minimum, summary.p50, summary.p95, summary.p99, summary.p999, summary.maximum]
                    .map { Format.right(Format.milliseconds($0), 10) }.joined())
        }
        lines.append("errors: " + Self.describe(errors))
        if warmupErrors.total > 0 { lines.append("warmup errors: " + Self.describe(warmupErrors)) }
        lines.append("retries: " + Self.describe(retries))
        if let invariant { lines.append("check: \(invariant)") }
        var cpu = "cpu in the measured window: client \(Format.fixed(clientCPUSeconds, 2)) s "
            + "(\(Format.fixed(cores(clientCPUSeconds), 2)) cores)"
        if let serverCPUSeconds {
            cpu += ", server \(Format.fixed(serverCPUSeconds, 2)) s (\(Format.fixed(cores(serverCPUSeconds), 2)) cores)"
        }
        lines.append(cpu)
        return lines.joined(separator: "\n")
    }

    /// CPU seconds as cores busy over the measured window.
    func cores(_ seconds: Double) -> Double {
        measuredSeconds > 0 ? seconds / measuredSeconds : 0
    }

    private static func describe(_ tally: Tally) -> String {
        guard tally.total > 0 else { return "none" }
        return tally.sorted.map { entry in
            let example = tally.examples[entry.name].map { " (e.g. \($0))" } ?? ""
            return "\(entry.name) \(entry.count)\(example)"
        }.joined(separator: "; ")
    }
}
