import LogEngine
import Raft

/// Raft's view of one region's persisted log, answered from the log engine's in-memory index (and its
/// entry cache or one read per entry), plus the region's membership.
///
/// Raft's `Storage` can only throw Raft's errors, so an I/O or checksum failure is kept in ``failure`` for the
/// store loop to act on (it stops the store) and reported to Raft as `unavailable`.
final class PeerStorage: Storage {
    let regionID: UInt64
    private let log: LogEngine
    /// The voters, from the region's peers.
    var confState: ConfState
    /// The first failure to read the log, if any.
    private(set) var failure: LogEngineError?
    /// Builds a snapshot of the region's applied state (set by the store in cluster mode).
    var snapshotProvider: (() throws(RaftError) -> Snapshot)?

    init(regionID: UInt64, log: LogEngine, confState: ConfState) {
        self.regionID = regionID
        self.log = log
        self.confState = confState
    }

    func initialState() throws(RaftError) -> (hardState: HardState, confState: ConfState) {
        (log.hardState(of: regionID) ?? HardState(), confState)
    }

    func entries(from low: UInt64, to high: UInt64, maxSize: Int) throws(RaftError) -> [Entry] {
        do {
            return try log.entries(of: regionID, from: low, to: high, maxSize: maxSize)
        } catch {
            throw translate(error)
        }
    }

    func term(at index: UInt64) throws(RaftError) -> UInt64 {
        do {
            return try log.term(of: regionID, at: index)
        } catch {
            throw translate(error)
        }
    }

    func firstIndex() -> UInt64 {
        log.firstIndex(of: regionID)
    }

    func lastIndex() -> UInt64 {
        log.lastIndex(of: regionID)
    }

    /// A snapshot of the region's applied state, built when a follower needs entries the log no longer
    /// has; a standalone store never needs one.
    func snapshot() throws(RaftError) -> Snapshot {
        guard let snapshotProvider else { throw RaftError.snapshotTemporarilyUnavailable }
        return try snapshotProvider()
    }

    private func translate(_ error: any Error) -> RaftError {
        if let error = error as? LogEngineError {
            switch error.code {
            case .compacted: return .compacted
            case .unavailable: return .unavailable
            default: if failure == nil { failure = error }
            }
        }
        return .unavailable
    }
}
