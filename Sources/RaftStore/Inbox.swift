import KVProtocol
import KVServer

/// What other threads hand the store loop.
struct Inbox {
    var submissions: [WriteSubmission] = []
    var events: [StoreEvent] = []
    var stopping = false
    /// Whether the loop thread is running a turn (or about to): then nobody needs to wake it.
    var loopAwake = true
    /// Whether too much is unflushed for new submissions to be taken (set after each turn).
    var blocked = false
    /// Whether a turn has seen `stopping` (after that the loop waits for its flush like any other event).
    var stopSeen = false
    /// Whether a turn ended with Raft work left (it runs a bounded number of rounds).
    var readyLeft = false
    /// Whether some thread is running a turn now.
    var turnRunning = false
    /// Whether a submitter's thread is about to run a turn (so later submitters need not schedule another).
    var turnScheduled = false
    /// Set by the loop once every region has a leader.
    var ready = false
    /// Set by the loop when the store failed.
    var failed = false

    /// Whether a turn would find something to do now.
    var hasTakeableWork: Bool {
        !events.isEmpty || (stopping && !stopSeen) || readyLeft || (!submissions.isEmpty && (!blocked || failed))
    }
}

/// Something that happened outside the store loop.
enum StoreEvent {
    /// A flush to LMDB finished (or failed).
    case flushFinished(Result<Void, any Error>)
    /// Raft messages from other stores.
    case raftMessages([RaftEnvelope])
    /// A store could not be reached.
    case unreachable(storeID: UInt64)
    /// A snapshot sent to a peer arrived, or was lost.
    case snapshotReported(regionID: UInt64, peerID: UInt64, failed: Bool)
    /// The scheduler asks for a change.
    case regionOperator(RegionOperator)
    /// A split has its new ids (or could not get them): propose it, or answer its submission.
    case splitReady(Result<SplitCommand, ProtocolError>, WriteSubmission)
    /// A background split check measured a region.
    case splitCheckFinished(SplitCheckResult)
}

/// Applied changes on their way to LMDB, with the applied index per region they bring it to.
struct FlushJob {
    /// Oldest first, the order to write them.
    var layers: [ChangeLayer]
    var applied: [UInt64: UInt64]
}
