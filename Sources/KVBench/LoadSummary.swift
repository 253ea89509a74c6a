/// What the load phase did.
public struct LoadSummary {
    /// Records (or accounts) written.
    public var records: Int
    /// Wall-clock seconds it took.
    public var seconds: Double
    /// Connections used.
    public var connections: Int

    /// Creates a summary.
    public init(records: Int, seconds: Double, connections: Int) {
        self.records = records
        self.seconds = seconds
        self.connections = connections
    }

    /// Records written per second.
    public var recordsPerSecond: Double { seconds > 0 ? Double(records) / seconds : 0 }
}

// MARK: - Sendable

extension LoadSummary: Sendable {}
