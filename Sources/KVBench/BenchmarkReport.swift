/// The outcome of a run: throughput, latency percentiles per operation kind, errors and retries by kind, and
/// the CPU used on each side.
public struct BenchmarkReport {
    /// The run's definition.
    public var configuration: BenchmarkConfiguration
    /// The load phase, if this run did one.
    public var load: LoadSummary?
    /// Seconds from the end of the warmup to the end of the last measured operation.
    public var measuredSeconds: Double
    /// Measured operations that succeeded (checked answers).
    public var successes: Int
    /// Latency summaries of successful measured operations, per kind, in ``OperationKind`` order.
    public var latencies: [(kind: OperationKind, summary: LatencySummary)]
    /// All successful measured operations together.
    public var overall: LatencySummary
    /// Failed measured operations by kind of failure.
    public var errors: Tally
    /// Failed warmup operations by kind (not in the figures, but not hidden either).
    public var warmupErrors: Tally
    /// Retries during measurement by kind.
    public var retries: Tally
    /// CPU seconds this process used during the measured window.
    public var clientCPUSeconds: Double
    /// CPU seconds the server process used during the measured window, when its pid was given.
    public var serverCPUSeconds: Double?
    /// The result of the end-of-run consistency check (transfers), if any.
    public var invariant: String?

    /// Creates a report.
    public init(
        configuration: BenchmarkConfiguration, load: LoadSummary?, measuredSeconds: Double, successes: Int,
        latencies: [(kind: OperationKind, summary: LatencySummary)], overall: LatencySummary, errors: Tally,
        warmupErrors: Tally, retries: Tally, clientCPUSeconds: Double, serverCPUSeconds: Double?, invariant: String?
    ) {
        self.configuration = configuration
        self.load = load
        self.measuredSeconds = measuredSeconds
        self.successes = successes
        self.latencies = latencies
        self.overall = overall
        self.errors = errors
        self.warmupErrors = warmupErrors
        self.retries = retries
        self.clientCPUSeconds = clientCPUSeconds
        self.serverCPUSeconds = serverCPUSeconds
        self.invariant = invariant
    }

    /// Successful operations per second of the measured window.
    public var operationsPerSecond: Double {
        measuredSeconds > 0 ? Double(successes) / measuredSeconds : 0
    }

    /// Whether any operation failed (measured, during warmup, or the final check).
    public var hadErrors: Bool {
        errors.total > 0 || warmupErrors.total > 0
    }
}

// MARK: - Sendable

extension BenchmarkReport: Sendable {}
