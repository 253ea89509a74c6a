import ArgumentParser
import KVBench
import KVCommandLine

/// `kvbench run WORKLOAD`: load the records, then run and measure the workload.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load the records, then run the workload and report throughput and latencies.")

    @Argument(help: ArgumentHelp("a, b, c, d, e, f, raw-put, raw-get, mixed or txn-transfer.", valueName: "workload"))
    var workload: Workload

    @OptionGroup var options: BenchOptions

    @Flag(help: "Skip the load phase (the records are already loaded with the same --records and --value-size).")
    var skipLoad = false

    func run() throws {
        let address = try options.address()
        let configuration = try options.configuration(workload: workload, address: address)
        let runner = BenchmarkRunner(
            configuration: configuration,
            factory: try options.driverFactory(workload: workload),
            progress: ProgressLine.forTerminal())
        do {
            let load = skipLoad ? nil : try runner.load()
            let report = try runner.run(load: load)
            options.print(text: report.text, json: report.json)
            if report.hadErrors {
                let count = report.errors.total + report.warmupErrors.total
                throw BenchFailure(
                    exitCode: BenchFailure.runErrors,
                    message: "the run had \(count) error\(count == 1 ? "" : "s") (see the report); its figures are not clean")
            }
        } catch let error as BenchError {
            throw BenchFailure(error)
        }
    }
}
