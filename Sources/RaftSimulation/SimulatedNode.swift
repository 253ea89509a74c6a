import Raft

/// One simulated server: durable storage that survives crashes, and volatile state that does not.
final class SimulatedNode {
    let id: UInt64
    /// What the node persisted (entries, hard state, snapshots). Survives crashes.
    let storage: MemoryStorage
    /// The running Raft state machine; nil while crashed or after removal. Everything in it that was not
    /// handed over through `Ready` and persisted is lost on a crash.
    var raft: RaftNode?
    /// The application state; rebuilt from the storage snapshot on restart.
    var stateMachine: SimulatedStateMachine
    /// Has stepped since its last Ready was handled.
    var dirty = false
    /// Restarts so far (seeds the node's randomness differently each time).
    var incarnation: UInt64 = 0
    /// Tick at which a crashed node restarts.
    var restartAt = 0
    /// Removed from the group and shut down for good (as a raftstore destroys a removed peer).
    var removed = false

    init(id: UInt64, storage: MemoryStorage) {
        self.id = id
        self.storage = storage
        stateMachine = SimulatedStateMachine(snapshot: (try? storage.snapshot()) ?? Snapshot())
    }

    var isUp: Bool { raft != nil }
}
