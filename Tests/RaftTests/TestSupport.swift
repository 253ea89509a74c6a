@testable import Raft
import RaftSimulation

/// A node under test with its storage, for scenarios driven message by message.
final class Peer {
    let node: RaftNode
    let storage: MemoryStorage

    /// Builds a node whose persisted log has entries with the given terms at indexes 1, 2, ...
    init(id: UInt64, voters: [UInt64], logTerms: [UInt64] = [], term: UInt64? = nil, vote: UInt64 = 0,
         commit: UInt64 = 0, configure: (inout RaftConfig) -> Void = { _ in }) {
        storage = makeStorage(voters: voters, logTerms: logTerms, term: term, vote: vote, commit: commit)
        var config = RaftConfig(id: id)
        configure(&config)
        node = try! RaftNode(config: config, storage: storage, random: SplitMix64(seed: id))
    }

    /// Handles one Ready the way the contract says (persist, apply conf changes, advance) and returns it.
    @discardableResult
    func handleReady() -> Ready {
        let rd = node.ready()
        if let snapshot = rd.snapshot { try! storage.applySnapshot(snapshot) }
        try! storage.append(rd.entries)
        if let hardState = rd.hardState { storage.setHardState(hardState) }
        for entry in rd.committedEntries where entry.kind == .confChange {
            node.applyConfChange(try! ConfChange(decoding: entry.data))
        }
        node.advance(rd)
        return rd
    }

    /// The messages of the next Ready (after persisting it).
    func messages() -> [Message] {
        handleReady().messages
    }
}

func makeStorage(voters: [UInt64], logTerms: [UInt64] = [], term: UInt64? = nil, vote: UInt64 = 0,
                 commit: UInt64 = 0) -> MemoryStorage {
    let storage = MemoryStorage(confState: ConfState(voters: voters))
    let entries = logTerms.enumerated().map {
        Entry(term: $0.element, index: UInt64($0.offset + 1), data: [UInt8($0.offset)])
    }
    try! storage.append(entries)
    storage.setHardState(HardState(term: term ?? (logTerms.last ?? 0), vote: vote, commit: commit))
    return storage
}

/// Plain Raft as in the paper: no pre-vote, no check-quorum.
func paperConfig(_ config: inout RaftConfig) {
    config.preVote = false
    config.checkQuorum = false
}

/// The terms of a node's log, index 1 to last.
func logTerms(_ node: RaftNode) -> [UInt64] {
    guard node.lastIndex >= 1 else { return [] }
    return (1...node.lastIndex).map { node.term(at: $0) ?? 0 }
}

extension LocalCluster {
    /// Ticks every node `count` times, stabilizing after each.
    func tick(_ count: Int) {
        for _ in 0..<count { tickAll() }
    }
}
