#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Makes one connection to the store under test; called once per client thread, on that thread.
public typealias DriverFactory = @Sendable () throws(DriverError) -> any StoreDriver

/// Runs a benchmark: the load phase, then the closed-loop run of C client threads, then the report.
///
/// - The load phase writes records `0..<records` (or the accounts) with pipelined or batched writes, before
///   and outside the timed window.
/// - Each client thread connects first; all start together once every one is connected.
/// - Each client has one operation in flight (closed loop) and its own random stream derived from the seed.
/// - Operations that start during the warmup are executed but not reported (their errors are, apart).
/// - A run ends after `duration` seconds of measurement or when the clients did `operations` in all.
/// - When a connection breaks, the client reconnects before its next operation; the failure counts as an error.
public final class BenchmarkRunner {
    /// The run's definition.
    public let configuration: BenchmarkConfiguration
    private let factory: DriverFactory
    private let progress: ProgressLine?

    /// Creates a runner.
    ///
    /// - Parameters:
    ///   - configuration: The run; validate it first.
    ///   - factory: Opens one connection to the store.
    ///   - progress: Where to show progress, or `nil` for none.
    public init(configuration: BenchmarkConfiguration, factory: @escaping DriverFactory, progress: ProgressLine? = nil) {
        self.configuration = configuration
        self.factory = factory
        self.progress = progress
    }

    /// Writes the records (or accounts) the workload reads, with up to `clients` connections.
    ///
    /// - Returns: What was loaded and how long it took.
    /// - Throws: ``BenchError`` of kind unreachable or loadFailed.
    public func load() throws(BenchError) -> LoadSummary {
        let configuration = configuration
        let factory = factory
        let threads = max(1, min(configuration.clients, configuration.records / 256))
        let failures = FailureList()
        let started = MonotonicClock.now()
        var workers: [NativeThread] = []
        for thread in 0..<threads {
            let first = configuration.records * thread / threads
            let end = configuration.records * (thread + 1) / threads
            workers.append(NativeThread {
                do throws(DriverError) {
                    let driver = try factory()
                    var random = SeededGenerator(seed: configuration.seed, stream: -1 - thread)
                    var number = first
                    while number < end {
                        let batchEnd = min(number + 1024, end)
                        var pairs: [(key: [UInt8], value: [UInt8])] = []
                        pairs.reserveCapacity(batchEnd - number)
                        for record in number..<batchEnd {
                            if configuration.workload.usesAccounts {
                                let key = RecordKey.account(record)
                                pairs.append((key, AccountValue.make(key: key, balance: AccountValue.initialBalance)))
                            } else {
                                let key = RecordKey.record(record)
                                pairs.append((key, RecordValue.make(key: key, stamp: random.next(), size: configuration.valueSize)))
                            }
                        }
                        try driver.load(pairs, indexed: configuration.workload.scans)
                        number = batchEnd
                    }
                } catch {
                    failures.append(error)
                }
            })
        }
        for worker in workers { worker.join() }
        let seconds = Double(MonotonicClock.now() - started) / 1e9
        if let failure = failures.first {
            if failure.kind == .unreachable { throw BenchError(.unreachable, failure.message) }
            throw BenchError(.loadFailed, "load phase failed: \(failure.message)")
        }
        return LoadSummary(records: configuration.records, seconds: seconds, connections: threads)
    }

    /// Runs the measured phase (the records must be loaded).
    ///
    /// - Parameter load: The load phase's summary, to include in the report.
    /// - Returns: The report.
    /// - Throws: ``BenchError`` of kind unreachable when a client cannot connect.
    public func run(load: LoadSummary? = nil) throws(BenchError) -> BenchmarkReport {
        let configuration = configuration
        let factory = factory
        let keySpace = KeySpace(loaded: configuration.records)
        let gate = StartGate(expected: configuration.clients)
        let results = ResultList()
        let progresses = (0..<configuration.clients).map { _ in ClientProgress() }
        let warmupNanoseconds = UInt64(configuration.warmup * 1e9)
        let durationNanoseconds = UInt64(configuration.duration * 1e9)

        var threads: [NativeThread] = []
        for client in 0..<configuration.clients {
            let quota = configuration.operations.map { total in
                total / configuration.clients + (client < total % configuration.clients ? 1 : 0)
            }
            let clientProgress = progresses[client]
            threads.append(NativeThread {
                var driver: (any StoreDriver)?
                var failure: DriverError?
                do throws(DriverError) { driver = try factory() } catch { failure = error }
                // Set-up (connection, key chooser) happens before the gate opens, outside the timed window.
                var loop = ClientLoop(
                    executor: OperationExecutor(configuration: configuration, keySpace: keySpace, stream: client),
                    mix: configuration.workload.mix(readRatio: configuration.readRatio),
                    factory: factory, driver: driver, progress: clientProgress)
                guard let start = gate.arrive(failure: failure) else { return }
                let measureStart = start + warmupNanoseconds
                let result = loop.run(
                    measureStart: measureStart,
                    end: quota == nil ? measureStart + durationNanoseconds : nil,
                    quota: quota)
                clientProgress.finish()
                results.append(result)
            })
        }

        let connectFailures = gate.waitForAll()
        if let failure = connectFailures.first {
            gate.abort()
            for thread in threads { thread.join() }
            throw BenchError(.unreachable, failure.message)
        }
        let start = MonotonicClock.now()
        gate.open(at: start)
        let measureStart = start + warmupNanoseconds
        var cpuAtStart: (client: Double, server: Double?)?
        progress?.begin()
        while true {
            let now = MonotonicClock.now()
            if cpuAtStart == nil && now >= measureStart {
                cpuAtStart = (ProcessCPU.ownSeconds(), configuration.serverPID.flatMap(ProcessCPU.seconds(ofProcess:)))
            }
            let snapshots = progresses.map(\.snapshot)
            if snapshots.allSatisfy(\.done) { break }
            progress?.update(
                elapsed: Double(now - start) / 1e9, warmingUp: now < measureStart,
                operations: snapshots.reduce(0) { $0 + $1.operations }, errors: snapshots.reduce(0) { $0 + $1.errors })
            MonotonicClock.sleep(seconds: 0.02)
        }
        for thread in threads { thread.join() }
        progress?.end()
        let cpuAtEnd = (ProcessCPU.ownSeconds(), configuration.serverPID.flatMap(ProcessCPU.seconds(ofProcess:)))

        var merged = ClientResult()
        var overall = LatencyRecorder()
        for result in results.all {
            for (kind, recorder) in result.latencies {
                merged.latencies[kind, default: LatencyRecorder()].merge(recorder)
                overall.merge(recorder)
            }
            merged.errors.merge(result.errors)
            merged.warmupErrors.merge(result.warmupErrors)
            merged.retries.merge(result.retries)
            merged.successes += result.successes
            merged.lastEnd = max(merged.lastEnd, result.lastEnd)
        }
        let measured = merged.lastEnd > measureStart ? Double(merged.lastEnd - measureStart) / 1e9 : 0
        let startCPU = cpuAtStart ?? cpuAtEnd
        var serverCPU: Double?
        if let before = startCPU.server, let after = cpuAtEnd.1 { serverCPU = after - before }

        var invariant: String?
        if configuration.workload.usesAccounts {
            invariant = checkBalances(errors: &merged.errors)
        }

        return BenchmarkReport(
            configuration: configuration,
            load: load,
            measuredSeconds: measured,
            successes: merged.successes,
            latencies: OperationKind.allCases.compactMap { kind in
                merged.latencies[kind].map { (kind, $0.summary) }
            },
            overall: overall.summary,
            errors: merged.errors,
            warmupErrors: merged.warmupErrors,
            retries: merged.retries,
            clientCPUSeconds: cpuAtEnd.0 - startCPU.client,
            serverCPUSeconds: serverCPU,
            invariant: invariant)
    }

    /// Reads every account after a transfer run and checks that the total is what the load phase wrote.
    private func checkBalances(errors: inout Tally) -> String {
        let expected = configuration.records * AccountValue.initialBalance
        do throws(DriverError) {
            let driver = try factory()
            var total = 0
            for number in 0..<configuration.records {
                let key = RecordKey.account(number)
                guard let value = try driver.read(key), let balance = AccountValue.balance(in: value, key: key) else {
                    errors.add("invariant-total", example: "account \(number) has no valid balance after the run")
                    return "account \(number) has no valid balance after the run"
                }
                total += balance
            }
            if total != expected {
                errors.add("invariant-total", example: "total \(total), expected \(expected)")
                return "total balance \(total), expected \(expected): VIOLATED"
            }
            return "total balance \(total) over \(configuration.records) accounts, as loaded: ok"
        } catch {
            errors.add("invariant-total", example: "could not read the balances: \(error.message)")
            return "could not read the balances after the run: \(error.message)"
        }
    }
}
