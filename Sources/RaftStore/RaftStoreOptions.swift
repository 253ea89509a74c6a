import KVEngine
import LogEngine

/// How a ``RaftStore`` runs: timing of Raft, the log, and when applied writes go to LMDB.
public struct RaftStoreOptions: Sendable {
    /// Milliseconds between Raft ticks.
    public var tickMilliseconds = 100
    /// Ticks without a leader before an election (randomized up to twice this).
    public var electionTicks = 10
    /// Ticks between a leader's heartbeats.
    public var heartbeatTicks = 1
    /// The LMDB environment's options (map size and growth).
    public var environment = EnvironmentOptions()
    /// The log's options (segment size, rewrite threshold).
    public var log = LogEngineOptions()
    /// Applied writes go to LMDB in one durable transaction at least this often (milliseconds)...
    public var flushMilliseconds = 100
    /// ...or as soon as this many bytes are waiting.
    public var flushBytes = 8 << 20
    /// Applied-but-unflushed bytes past which the store stops taking new writes until a flush completes
    /// (back-pressure: memory stays bounded whatever the load).
    public var maxUnflushedBytes = 64 << 20
    /// Proposal bytes one round of the store loop takes at most (the rest waits for the next round).
    public var maxRoundBytes = 4 << 20
    /// Write bytes one Raft entry carries at most; a larger submission becomes several entries.
    public var maxEntryBytes = 4 << 20

    /// Whether stopping flushes every applied write to LMDB, so the next start replays nothing. Tests turn it
    /// off to leave the replay to the next start, as a crash would.
    public var flushOnStop = true

    /// The defaults: 100 ms ticks, 1 s elections, 32 MiB log segments, flushes every 100 ms or 8 MiB.
    public init() {}
}
