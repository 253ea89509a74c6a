import ArgumentParser
import KVBench
import KVCommandLine

/// `kvbench load WORKLOAD`: only write the records the workload reads.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the workload's records (for later `run --skip-load`), and report how fast.")

    @Argument(help: ArgumentHelp("a, b, c, d, e, f, raw-put, raw-get, mixed or txn-transfer.", valueName: "workload"))
    var workload: Workload

    @OptionGroup var options: BenchOptions

    func run() throws {
        let address = try options.address()
        let configuration = try options.configuration(workload: workload, address: address)
        let runner = BenchmarkRunner(
            configuration: configuration,
            factory: try options.driverFactory(workload: workload))
        do {
            let load = try runner.load()
            var json = JSONLine()
            json.add("kvbench", "load")
            json.add("target", configuration.target)
            json.add("workload", workload.rawValue)
            json.add("records", load.records)
            json.add("connections", load.connections)
            let seconds = (load.seconds * 1000).rounded() / 1000
            let rate = load.recordsPerSecond.rounded()
            json.addRaw("seconds", json: String(seconds))
            json.addRaw("per_s", json: String(Int(rate)))
            let text = "loaded \(load.records) \(workload.usesAccounts ? "accounts" : "records") into "
                + "\(configuration.target) in \(seconds) s (\(Int(rate))/s) over \(load.connections) connection\(load.connections == 1 ? "" : "s")"
            options.print(text: text, json: json.text)
        } catch {
            throw BenchFailure(error)
        }
    }
}
