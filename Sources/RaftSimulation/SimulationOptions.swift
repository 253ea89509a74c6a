/// What a simulation run does. Fault rates are drawn per seed from these bounds, so different seeds explore
/// different regimes (lossy, partition-heavy, crash-heavy, tiny messages, ...).
public struct SimulationOptions {
    /// Initial number of voters (ids 1...nodeCount).
    public var nodeCount: Int
    /// Ticks of faults (drops, duplicates, delays, partitions, crashes, membership changes, transfers).
    public var chaosTicks: Int
    /// After the faults heal, a new proposal must commit within this many ticks, plus
    /// `ticksPerBacklogEntry` per uncommitted entry at that moment (the longest log minus the highest commit
    /// index): leaders must bring a follower up to date before their own entry can commit.
    public var livenessBoundTicks: Int
    /// Extra ticks allowed per uncommitted entry when the faults heal.
    public var ticksPerBacklogEntry: Int
    /// Election timeout in ticks.
    public var electionTick: Int
    /// Heartbeat interval in ticks.
    public var heartbeatTick: Int
    /// Inject crashes and restarts.
    public var crashes: Bool
    /// Inject partitions.
    public var partitions: Bool
    /// Propose membership changes.
    public var membershipChanges: Bool
    /// Compact logs (so lagging followers need snapshots).
    public var compaction: Bool
    /// Record a human-readable event log (slow; for replaying one seed).
    public var recordEvents: Bool

    /// Creates options.
    ///
    /// - Parameters:
    ///   - nodeCount: initial voters.
    ///   - chaosTicks: ticks of faults.
    ///   - livenessBoundTicks: progress bound after healing.
    ///   - ticksPerBacklogEntry: extra ticks per uncommitted entry at healing.
    ///   - electionTick: election timeout.
    ///   - heartbeatTick: heartbeat interval.
    ///   - crashes: inject crashes.
    ///   - partitions: inject partitions.
    ///   - membershipChanges: change membership.
    ///   - compaction: compact logs.
    ///   - recordEvents: keep an event log.
    public init(
        nodeCount: Int = 3,
        chaosTicks: Int = 300,
        livenessBoundTicks: Int = 150,
        ticksPerBacklogEntry: Int = 2,
        electionTick: Int = 10,
        heartbeatTick: Int = 2,
        crashes: Bool = true,
        partitions: Bool = true,
        membershipChanges: Bool = true,
        compaction: Bool = true,
        recordEvents: Bool = false
    ) {
        self.nodeCount = nodeCount
        self.chaosTicks = chaosTicks
        self.livenessBoundTicks = livenessBoundTicks
        self.ticksPerBacklogEntry = ticksPerBacklogEntry
        self.electionTick = electionTick
        self.heartbeatTick = heartbeatTick
        self.crashes = crashes
        self.partitions = partitions
        self.membershipChanges = membershipChanges
        self.compaction = compaction
        self.recordEvents = recordEvents
    }
}

// MARK: - Equatable

extension SimulationOptions: Equatable {}

// MARK: - Sendable

extension SimulationOptions: Sendable {}

extension SimulationOptions {
    /// The options the seed-sweeping tests use for `seed`: the node count cycles through 3, 5 and 7, so one
    /// seed number identifies a whole run.
    ///
    /// - Parameter seed: the seed.
    /// - Returns: the options.
    public static func standard(seed: UInt64) -> SimulationOptions {
        SimulationOptions(nodeCount: [3, 5, 7][Int(seed % 3)])
    }
}
