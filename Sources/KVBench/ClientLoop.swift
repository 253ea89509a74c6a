/// The closed loop of one client thread: draw an operation, execute and check it, time it, repeat.
struct ClientLoop {
    var executor: OperationExecutor
    let mix: OperationMix
    let factory: DriverFactory
    var driver: (any StoreDriver)?
    let progress: ClientProgress
    /// Reconnections since the last operation was accounted for.
    private var reconnects = 0

    init(
        executor: OperationExecutor, mix: OperationMix, factory: @escaping DriverFactory, driver: (any StoreDriver)?,
        progress: ClientProgress
    ) {
        self.executor = executor
        self.mix = mix
        self.factory = factory
        self.driver = driver
        self.progress = progress
    }

    /// Runs until `end` (monotonic nanoseconds) or until `quota` measured operations are done.
    ///
    /// - Parameters:
    ///   - measureStart: Operations starting before this are warmup.
    ///   - end: When to stop starting operations (duration mode), or `nil`.
    ///   - quota: How many measured operations to do (operation-count mode), or `nil`.
    /// - Returns: What was measured.
    mutating func run(measureStart: UInt64, end: UInt64?, quota: Int?) -> ClientResult {
        var result = ClientResult()
        var measuredCount = 0
        var pendingOperations = 0
        var pendingErrors = 0
        while true {
            let start = MonotonicClock.now()
            if let end, start >= end { break }
            let measuring = start >= measureStart
            if measuring, let quota, measuredCount >= quota { break }
            let kind = executor.nextKind(mix: mix)
            let outcome = execute(kind)
            let finish = MonotonicClock.now()
            var retries = executor.takeRetries()
            retries.add("reconnect", reconnects)
            reconnects = 0
            pendingOperations += 1
            if measuring {
                measuredCount += 1
                result.lastEnd = finish
                result.retries.merge(retries)
            }
            switch outcome {
            case .success:
                if measuring {
                    result.successes += 1
                    result.latencies[kind, default: LatencyRecorder()].record(nanoseconds: finish - start)
                }
            case .failure(let name, let message):
                pendingErrors += 1
                if measuring {
                    result.errors.add(name, example: message)
                } else {
                    result.warmupErrors.add(name, example: message)
                }
            }
            if pendingOperations >= 64 {
                progress.add(operations: pendingOperations, errors: pendingErrors)
                pendingOperations = 0
                pendingErrors = 0
            }
        }
        progress.add(operations: pendingOperations, errors: pendingErrors)
        driver = nil
        return result
    }

    /// Executes one operation, reconnecting first when the last one broke the connection.
    private mutating func execute(_ kind: OperationKind) -> OperationExecutor.Outcome {
        do throws(DriverError) {
            let current: any StoreDriver
            if let driver {
                current = driver
            } else {
                reconnects += 1
                current = try factory()
                driver = current
            }
            return try executor.execute(kind, on: current)
        } catch {
            if error.breaksConnection {
                if driver == nil { MonotonicClock.sleep(seconds: 0.05) }
                driver = nil
            }
            return .failure(name: error.tallyName, message: error.message)
        }
    }
}
