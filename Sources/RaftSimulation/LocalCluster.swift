import Raft

/// A fault-free, in-memory cluster driven step by step: for scenario tests, message budgets and the
/// benchmark. Messages are delivered in FIFO order; every Ready is persisted to the node's `MemoryStorage`
/// at once.
public final class LocalCluster {
    /// The nodes, by id.
    public private(set) var nodes: [UInt64: RaftNode] = [:]
    /// Their storage, by id.
    public private(set) var storages: [UInt64: MemoryStorage] = [:]
    /// Node ids in ascending order.
    public private(set) var ids: [UInt64] = []
    /// Messages sent but not yet delivered.
    public var pending: [Message] = []
    /// Every message sent since the last ``resetCounters()``.
    public private(set) var messagesSent = 0
    /// Messages sent, by kind, since the last ``resetCounters()``.
    public private(set) var messagesByKind: [MessageKind: Int] = [:]
    /// Entries applied per node (data of normal entries, in order).
    public private(set) var applied: [UInt64: [[UInt8]]] = [:]
    /// Read states returned per node.
    public private(set) var readStates: [UInt64: [ReadState]] = [:]
    /// Links that drop everything (from, to).
    public var cut: Set<[UInt64]> = []

    /// Creates a cluster of `count` voters with ids 1...count.
    ///
    /// - Parameters:
    ///   - count: number of voters.
    ///   - configure: adjusts each node's configuration.
    public init(count: Int, configure: (inout RaftConfig) -> Void = { _ in }) {
        let conf = ConfState(voters: (1...UInt64(count)).map { $0 })
        for id in conf.voters {
            var config = RaftConfig(id: id)
            configure(&config)
            let storage = MemoryStorage(confState: conf)
            storages[id] = storage
            // Node ids are valid and configs are checked by the caller's closure; a failure here is a test bug.
            nodes[id] = try! RaftNode(config: config, storage: storage, random: SplitMix64(seed: id))
            ids.append(id)
            applied[id] = []
        }
    }

    /// Creates a cluster from hand-built storage (for scenario tests that start from given logs).
    ///
    /// - Parameters:
    ///   - storages: each node's storage, by id.
    ///   - configure: adjusts each node's configuration.
    public init(storages: [UInt64: MemoryStorage], configure: (inout RaftConfig) -> Void = { _ in }) {
        for id in storages.keys.sorted() {
            var config = RaftConfig(id: id)
            configure(&config)
            self.storages[id] = storages[id]!
            nodes[id] = try! RaftNode(config: config, storage: storages[id]!, random: SplitMix64(seed: id))
            ids.append(id)
            applied[id] = []
        }
    }

    /// Adds a node that joins an existing group: it knows only the bootstrap membership and learns the rest
    /// from the leader (log or snapshot).
    ///
    /// - Parameters:
    ///   - id: the new node's id.
    ///   - bootstrap: the group's initial membership.
    ///   - configure: adjusts its configuration.
    public func addNode(_ id: UInt64, bootstrap: ConfState, configure: (inout RaftConfig) -> Void = { _ in }) {
        var config = RaftConfig(id: id)
        configure(&config)
        let storage = MemoryStorage(confState: bootstrap)
        storages[id] = storage
        nodes[id] = try! RaftNode(config: config, storage: storage, random: SplitMix64(seed: id))
        ids.append(id)
        ids.sort()
        applied[id] = []
    }

    /// Replaces node `id` by a fresh instance built from its storage, as after a crash.
    ///
    /// - Parameters:
    ///   - id: the node.
    ///   - configure: adjusts its configuration.
    public func restart(_ id: UInt64, configure: (inout RaftConfig) -> Void = { _ in }) {
        var config = RaftConfig(id: id)
        configure(&config)
        config.applied = storages[id]!.latestSnapshot.metadata.index
        nodes[id] = try! RaftNode(config: config, storage: storages[id]!, random: SplitMix64(seed: id &+ 99))
        pending.removeAll { $0.from == id }
    }

    /// The node with `id`.
    public subscript(id: UInt64) -> RaftNode {
        nodes[id]!
    }

    /// The current leader with the highest term, if any.
    public var leader: UInt64? {
        ids.filter { nodes[$0]!.role == .leader }.max { nodes[$0]!.term < nodes[$1]!.term }
    }

    /// Zeroes the message counters.
    public func resetCounters() {
        messagesSent = 0
        messagesByKind = [:]
    }

    /// Isolates `id` from every other node (both directions).
    ///
    /// - Parameter id: the node.
    public func isolate(_ id: UInt64) {
        for other in ids where other != id {
            cut.insert([id, other])
            cut.insert([other, id])
        }
    }

    /// Removes every cut link.
    public func heal() {
        cut = []
    }

    /// Handles every node's Ready once (persist, queue messages, apply, advance).
    public func processReadies() {
        for id in ids {
            let node = nodes[id]!
            guard node.hasReady() else { continue }
            let rd = node.ready()
            let storage = storages[id]!
            if let snapshot = rd.snapshot { try! storage.applySnapshot(snapshot) }
            try! storage.append(rd.entries)
            if let hardState = rd.hardState { storage.setHardState(hardState) }
            for m in rd.messages {
                messagesSent += 1
                messagesByKind[m.kind, default: 0] += 1
                pending.append(m)
            }
            for entry in rd.committedEntries {
                switch entry.kind {
                case .normal where !entry.data.isEmpty:
                    applied[id, default: []].append(entry.data)
                case .confChange:
                    node.applyConfChange(try! ConfChange(decoding: entry.data))
                default:
                    break
                }
            }
            readStates[id, default: []].append(contentsOf: rd.readStates)
            node.advance(rd)
        }
    }

    /// Delivers every pending message and handles Readies until nothing is left to do.
    ///
    /// - Parameter maxRounds: safety bound on rounds.
    public func stabilize(maxRounds: Int = 1000) {
        for _ in 0..<maxRounds {
            processReadies()
            if pending.isEmpty { return }
            let batch = pending
            pending = []
            for m in batch where !cut.contains([m.from, m.to]) {
                nodes[m.to]?.step(m)
            }
        }
    }

    /// Ticks every node once, then stabilizes.
    public func tickAll() {
        for id in ids { nodes[id]!.tick() }
        stabilize()
    }

    /// Makes `id` campaign and runs the election to completion.
    ///
    /// - Parameter id: the candidate.
    public func elect(_ id: UInt64) {
        nodes[id]!.campaign()
        stabilize()
    }
}
