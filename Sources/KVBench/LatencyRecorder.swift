import Histogram

/// Latencies of one operation kind in an HDR histogram (microseconds, 3 significant digits, up to 60 s).
public struct LatencyRecorder {
    /// The largest latency tracked; longer ones are recorded as this.
    public static let highestMicroseconds: UInt64 = 60_000_000

    private var histogram = Histogram<UInt64>(
        lowestDiscernibleValue: 1, highestTrackableValue: highestMicroseconds, numberOfSignificantValueDigits: .three)

    /// An empty recorder.
    public init() {}

    /// How many latencies were recorded.
    public var count: Int { Int(histogram.totalCount) }

    /// Records one latency.
    ///
    /// - Parameter nanoseconds: The latency; rounded to the nearest microsecond, at least 1.
    public mutating func record(nanoseconds: UInt64) {
        record(microseconds: max(1, (nanoseconds + 500) / 1000))
    }

    /// Records one latency in microseconds.
    public mutating func record(microseconds: UInt64) {
        histogram.record(min(microseconds, Self.highestMicroseconds))
    }

    /// Adds every latency of `other`.
    public mutating func merge(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
    }

    /// The percentiles of what was recorded.
    public var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary() }
        return LatencySummary(
            count: count,
            minimum: histogram.min,
            p50: histogram.valueAtPercentile(50),
            p95: histogram.valueAtPercentile(95),
            p99: histogram.valueAtPercentile(99),
            p999: histogram.valueAtPercentile(99.9),
            maximum: histogram.max,
            mean: histogram.mean)
    }
}

// MARK: - Sendable

extension LatencyRecorder: Sendable {}
