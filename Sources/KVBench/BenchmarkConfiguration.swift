/// Everything that defines a run, apart from the store.
public struct BenchmarkConfiguration {
    /// The workload.
    public var workload: Workload
    /// How many records (or accounts) the load phase writes; the key space of reads and updates.
    public var records = 10_000
    /// Measured operations in all, split evenly over the clients; `nil` runs for ``duration`` instead.
    public var operations: Int?
    /// Measured seconds, after the warmup; used when ``operations`` is `nil`.
    public var duration = 10.0
    /// Client threads, each with its own connection and one request in flight (closed loop).
    public var clients = 1
    /// Value size in bytes (records; account values are small balances).
    public var valueSize = 100
    /// The key distribution; `nil` uses the workload's (YCSB's) default.
    public var keyDistribution: KeyDistribution?
    /// The seed of every client's random stream.
    public var seed: UInt64 = 1
    /// Seconds of load before measuring starts; operations that start in it are not reported.
    public var warmup = 0.0
    /// The share of reads in the `mixed` workload.
    public var readRatio = 0.5
    /// The longest scan of workload E (lengths are uniform in `1...maxScanLength`, as in YCSB).
    public var maxScanLength = 100
    /// How often a transfer is retried after a conflict before it counts as an error.
    public var transferRetries = 32
    /// A server process whose CPU time to sample alongside the client's over the measured window (Linux).
    public var serverPID: Int32?
    /// The store as reports name it, e.g. `kv 127.0.0.1:20160`.
    public var target = "kv"

    /// A configuration with defaults.
    ///
    /// - Parameter workload: The workload.
    public init(workload: Workload) {
        self.workload = workload
    }

    /// The key distribution in effect.
    public var distribution: KeyDistribution { keyDistribution ?? workload.defaultDistribution }

    /// Checks that the options make a valid run.
    ///
    /// - Throws: ``BenchError`` of kind usage, naming the option.
    public func validate() throws(BenchError) {
        func fail(_ message: String) -> BenchError { BenchError(.usage, message) }
        guard records >= 2 else { throw fail("--records must be at least 2") }
        guard clients >= 1 && clients <= 1024 else { throw fail("--clients must be 1...1024") }
        if let operations, operations < 1 { throw fail("--ops must be at least 1") }
        guard duration > 0 else { throw fail("--duration must be more than 0 seconds") }
        guard warmup >= 0 else { throw fail("--warmup must not be negative") }
        guard (0...1).contains(readRatio) else { throw fail("--read-ratio must be between 0 and 1") }
        guard valueSize >= RecordValue.minimumSize || workload.usesAccounts else {
            throw fail("--value-size must be at least \(RecordValue.minimumSize) bytes: each value embeds its key and a check stamp")
        }
        guard valueSize <= 1 << 20 else { throw fail("--value-size must be at most 1 MiB") }
        guard maxScanLength >= 1 else { throw fail("the scan length must be at least 1") }
    }
}

// MARK: - Sendable

extension BenchmarkConfiguration: Sendable {}
