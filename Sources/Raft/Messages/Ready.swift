/// Everything a ``RaftNode`` needs the caller to do, handed out by ``RaftNode/ready()``.
///
/// ## The contract
///
/// Handle a `Ready` in this order, then call ``RaftNode/advance(_:)`` with it:
///
/// 1. **Persist** ``snapshot`` (if any), ``entries`` (append to the log, truncating any conflicting suffix
///    already in storage) and ``hardState`` (if any). These must be durable (fsynced, when ``mustSync``)
///    *before* step 2: a vote or an acknowledgement sent for state that a crash can lose breaks Raft's
///    safety. Many groups' Readies may be written in one storage transaction (group commit).
/// 2. **Send** ``messages``. Delivery is best effort: losing, duplicating or reordering them is safe.
///    If a ``MessageKind/snapshot`` message could not be delivered (or was), report it with
///    ``RaftNode/reportSnapshot(to:failed:)``.
/// 3. **Apply** ``snapshot`` (if any) to the state machine, then ``committedEntries`` in order. For a
///    ``EntryKind/confChange`` entry, decode it and call ``RaftNode/applyConfChange(_:)``. Committed entries
///    may include entries of this same Ready's ``entries``: that is why they are applied after step 1.
///    Those before the first of ``entries`` (persisted by earlier Readies) may be applied, and their results
///    answered, before step 1: they are committed and already durable here.
///    Serve ``readStates`` once the state machine has applied at least ``ReadState/index``.
/// 4. Call ``RaftNode/advance(_:)`` with this `Ready`. Call it before asking for the next `Ready`.
///
/// ``softState`` is informational (leader changes, for routing and for failing requests that waited on a
/// former leader).
///
/// Why the order matters: a leader counts its own new entries towards the commit index as soon as it
/// appends them, before they are durable. That is safe only because nothing derived from them (an append
/// carrying a commit index, an applied result) leaves the node before this Ready's writes are durable. Do
/// not send ``messages`` before persisting, not even a leader's (the thesis §10.2.1 optimisation needs a
/// different commit rule). Entries, hard state and snapshot of one Ready may be written in any order within
/// one atomic write.
///
/// ``committedEntries`` is not size-limited: a node that restarts far behind its commit index gets all of
/// them at once.
///
/// ```swift
/// while node.hasReady() {
///     let rd = node.ready()
///     try storage.persist(rd.snapshot, rd.entries, rd.hardState)   // durable first
///     transport.send(rd.messages)
///     stateMachine.apply(rd.snapshot, rd.committedEntries, node)   // may call node.applyConfChange
///     node.advance(rd)
/// }
/// ```
public struct Ready {
    /// Changed volatile state, or nil if unchanged since the previous `Ready`.
    public var softState: SoftState?
    /// Changed durable state (term, vote, commit) to persist, or nil if unchanged.
    public var hardState: HardState?
    /// Answers to ReadIndex requests; serve each once ``ReadState/index`` is applied.
    public var readStates: [ReadState]
    /// Entries to append to stable storage before sending ``messages``.
    public var entries: [Entry]
    /// A snapshot received from the leader, to persist and then apply; nil if none.
    public var snapshot: Snapshot?
    /// Committed entries to apply to the state machine, in order, after persisting.
    public var committedEntries: [Entry]
    /// Messages to send after persisting.
    public var messages: [Message]
    /// Whether the writes of this Ready must be synced to disk (new entries, term or vote) before sending.
    /// A commit-index-only change may be written without sync: it can be recomputed after a crash.
    public var mustSync: Bool

    /// Creates an empty Ready.
    public init() {
        softState = nil
        hardState = nil
        readStates = []
        entries = []
        snapshot = nil
        committedEntries = []
        messages = []
        mustSync = false
    }
}

// MARK: - Equatable

extension Ready: Equatable {}

// MARK: - Sendable

extension Ready: Sendable {}
