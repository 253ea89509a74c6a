import KVProtocol
import KVServer
import Raft

/// One region's replica on this node, owned by the store loop: its Raft node and storage, how far it has
/// applied, and the proposals waiting for their entries to be applied.
final class Peer {
    var region: Region
    let peerID: UInt64
    let storage: PeerStorage
    let node: RaftNode
    /// The last entry applied to the state machine (unflushed layers included).
    var appliedIndex: UInt64
    /// The last entry whose effects LMDB holds durably.
    var durableAppliedIndex: UInt64
    /// Compaction of the log requested up to here (written with the next log batch).
    var compactTo: UInt64 = 0
    /// Where peers not (yet) in the region's list live, learned from messages and operators.
    var knownPeers: [UInt64: UInt64] = [:]
    /// The last snapshot built for a follower, reused while the applied index stays.
    var cachedSnapshot: Snapshot?
    /// Set once a membership change removed this peer from its region.
    var isRemoved = false
    /// Bytes of the region's keys and values as the last split check measured them (nil: not measured yet).
    var measuredSize: (bytes: UInt64, keys: UInt64)?
    /// Bytes of entries applied since the last split check began: an estimate of growth since.
    var writtenSinceCheck = 0
    /// Whether a split check of this region is running in the background.
    var splitCheckRunning = false
    /// Whether the peer sleeps: no ticks until something happens to the region (see RaftStore+Hibernation).
    var isHibernating = false
    /// Ticks a leader has been settled for.
    var quietTicks = 0
    /// Proposals in index order, waiting for their entry.
    var proposals: [Proposal] = []
    var proposalsHead = 0

    init(region: Region, peerID: UInt64, storage: PeerStorage, node: RaftNode, appliedIndex: UInt64) {
        self.region = region
        self.peerID = peerID
        self.storage = storage
        self.node = node
        self.appliedIndex = appliedIndex
        self.durableAppliedIndex = appliedIndex
    }

    /// Whether the peer holds the region's state: it knows the voters (from its region at start, a split or a
    /// snapshot). A peer created on first contact is not initialized until its snapshot arrives.
    var isInitialized: Bool { !storage.confState.voters.isEmpty }

    /// The region's size for the scheduler: the last measurement plus what was written since.
    var approximateSize: (bytes: UInt64, keys: UInt64) {
        let measured = measuredSize ?? (0, 0)
        return (measured.bytes + UInt64(writtenSinceCheck), measured.keys)
    }

    /// Makes a hibernating peer tick again (something happened to its region).
    func wake() {
        isHibernating = false
        quietTicks = 0
    }

    /// Removes and returns the proposals waiting for entries up to `index`.
    func takeProposals(through index: UInt64) -> [Proposal] {
        var taken: [Proposal] = []
        while proposalsHead < proposals.count && proposals[proposalsHead].index <= index {
            taken.append(proposals[proposalsHead])
            proposalsHead += 1
        }
        if proposalsHead == proposals.count {
            proposals.removeAll(keepingCapacity: true)
            proposalsHead = 0
        } else if proposalsHead > 1024 {
            proposals.removeFirst(proposalsHead)
            proposalsHead = 0
        }
        return taken
    }

    /// Removes and returns every waiting proposal.
    func takeAllProposals() -> [Proposal] {
        defer {
            proposals.removeAll(keepingCapacity: true)
            proposalsHead = 0
        }
        return Array(proposals[proposalsHead...])
    }
}
