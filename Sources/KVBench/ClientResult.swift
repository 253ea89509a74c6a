/// What one client thread measured.
struct ClientResult {
    /// Latencies of successful measured operations, by kind.
    var latencies: [OperationKind: LatencyRecorder] = [:]
    /// Failed measured operations, by kind of failure.
    var errors = Tally()
    /// Failed operations during the warmup (not in the figures, but reported).
    var warmupErrors = Tally()
    /// Retries (transaction conflicts, reconnects) during measurement.
    var retries = Tally()
    /// Successful measured operations.
    var successes = 0
    /// When the last measured operation ended (monotonic nanoseconds), or 0.
    var lastEnd: UInt64 = 0
}

// MARK: - Sendable

extension ClientResult: Sendable {}
