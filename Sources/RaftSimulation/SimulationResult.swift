/// The outcome of one seed.
public struct SimulationResult {
    /// The seed.
    public var seed: UInt64
    /// Hash of every event; equal seeds must give equal hashes.
    public var traceHash: UInt64
    /// The first violated property, or nil.
    public var violation: SafetyViolation?
    /// Messages sent.
    public var messagesSent: Int
    /// Highest index applied anywhere.
    public var committedEntries: UInt64
    /// Distinct leaders (terms with a leader).
    public var leadersElected: Int
    /// Crashes injected.
    public var crashes: Int
    /// Snapshots sent.
    public var snapshotsSent: Int
    /// Membership changes applied by some node.
    public var confChangesApplied: Int
    /// ReadIndex answers checked.
    public var readsChecked: Int
    /// Ticks from healing to the first committed new proposal.
    public var ticksToRecover: Int
    /// The event log, if requested.
    public var events: [String]
}

// MARK: - Sendable

extension SimulationResult: Sendable {}
