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
    /// The file layer under the log; tests put a simulated disk there to make syncs fail.
    public var logFileSystem: any LogFileSystem = PosixFileSystem()
    /// Applied writes go to LMDB in one durable transaction at least this often (milliseconds)...
    ///
    /// Each such commit flushes the device twice; rarer commits disturb the log's own flushes less (measured:
    /// single-client PUT p50 0.38 ms at 100 ms, 0.33 ms at 1000 ms). The price is replay at start: at most this
    /// much time's writes, read back from the log.
    public var flushMilliseconds = 1000
    /// ...or as soon as this many bytes are waiting.
    public var flushBytes = 16 << 20
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
    /// How long a read waits for its ReadIndex (leadership confirmed by a quorum) before it is answered
    /// `NOT_LEADER` (cluster mode).
    public var readTimeoutMilliseconds = 2_000
    /// A leader keeps log entries a follower still needs unless it lags by more than this many; past that
    /// the follower catches up by snapshot (cluster mode).
    public var maxLogLagEntries = 10_000
    /// A region whose keys and values exceed this many bytes is split in two (cluster mode; 0 turns the
    /// size check off, leaving only splits asked for with `SPLIT`).
    public var regionMaxBytes = 96 << 20
    /// Ticks a leader's region must stay settled before it hibernates (cluster mode; 0: never).
    public var hibernateTicks = 20
    /// Seconds between passes of the split checker over the regions this store leads.
    public var splitCheckIntervalSeconds = 1.0
    /// Seconds between garbage collection passes over the regions led here (0: none).
    public var gcIntervalSeconds = 30.0
    /// A standalone node keeps MVCC versions this long (milliseconds): its GC safe point trails the clock by
    /// it (0: only `SET_GC_SAFE_POINT` moves it). A cluster's comes from kvsched.
    public var gcLifetimeMilliseconds: UInt64 = 10 * 60_000

    /// The defaults: 100 ms ticks, 1 s elections, 32 MiB log segments, flushes every second or 16 MiB.
    public init() {}
}
