/// The latency figures reported for one operation kind, in microseconds.
///
/// Percentiles are HDR-histogram values: the highest value equivalent (within 3 significant digits) to the one
/// at that rank, so they may exceed an exact sample by up to 0.1%.
public struct LatencySummary {
    /// Operations measured.
    public var count = 0
    /// The fastest.
    public var minimum: UInt64 = 0
    /// The median.
    public var p50: UInt64 = 0
    /// The 95th percentile.
    public var p95: UInt64 = 0
    /// The 99th percentile.
    public var p99: UInt64 = 0
    /// The 99.9th percentile.
    public var p999: UInt64 = 0
    /// The slowest.
    public var maximum: UInt64 = 0
    /// The mean.
    public var mean = 0.0

    /// A summary; all zero when nothing was measured.
    public init(
        count: Int = 0, minimum: UInt64 = 0, p50: UInt64 = 0, p95: UInt64 = 0, p99: UInt64 = 0, p999: UInt64 = 0,
        maximum: UInt64 = 0, mean: Double = 0
    ) {
        self.count = count
        self.minimum = minimum
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.p999 = p999
        self.maximum = maximum
        self.mean = mean
    }
}

// MARK: - Sendable, Hashable

extension LatencySummary: Sendable {}
extension LatencySummary: Hashable {}
