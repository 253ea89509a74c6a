/// How to open an ``Environment``.
public struct EnvironmentOptions: Sendable {
    /// The initial size of the memory map in bytes: the most data the environment holds before it grows.
    ///
    /// It reserves address space, not disk: the data file grows only with the data. When LMDB reports the map
    /// full, the environment doubles it (up to ``maxMapSize``) and runs the transaction again.
    public var mapSize: Int = 16 << 30
    /// The size past which the map never grows; a write that needs more fails with ``EngineError/mapFull``.
    public var maxMapSize: Int = 1 << 40
    /// Open without writing: no directory lock, no new column families; safe beside a live writer.
    public var readOnly = false
    /// Whether to create the data directory when it does not exist (ignored when ``readOnly``).
    public var createIfMissing = true
    /// The most read transactions open at once across every process sharing the environment.
    public var maxReaders: UInt32 = 1024
    /// Whether a commit waits for `fsync`. Turning it off trades durability after a crash for speed.
    public var syncOnCommit = true

    /// The defaults: a 16 GiB map growing to 1 TiB, read-write, durable commits.
    public init() {}
}
