import Raft

/// Global knowledge across all nodes, used to check the Raft safety properties (Figure 3 of the paper)
/// incrementally, so they can be checked after every step.
///
/// - Election safety: at most one leader per term.
/// - Log matching: checked as "an (index, term) pair determines the entry and the term of its
///   predecessor", on every entry a node hands over to be persisted. By induction on the index this is
///   equivalent to the paper's statement (same index and term ⇒ identical prefixes).
/// - Leader completeness: whenever a node becomes leader, its log holds every entry applied anywhere.
/// - State machine safety: every node applies the same entry (and reaches the same state hash) at each
///   index, in order, with no gaps.
public struct SafetyChecker {
    private struct EntryIdentity: Hashable {
        var index: UInt64
        var term: UInt64
    }

    private struct EntryFacts: Equatable {
        var prevTerm: UInt64
        var kind: EntryKind
        var data: [UInt8]
    }

    private var leaderOfTerm: [UInt64: UInt64] = [:]
    private var entries: [EntryIdentity: EntryFacts] = [:]
    /// Term and state hash after applying index i, at position i - 1. Dense: an index is applied by
    /// someone (the snapshot's creator) before anyone can skip it via a snapshot.
    public private(set) var appliedTerms: [UInt64] = []
    private var appliedHashes: [UInt64] = []

    /// Creates an empty checker.
    public init() {}

    /// Highest index applied by any node.
    public var maxApplied: UInt64 { UInt64(appliedTerms.count) }

    /// Checks that `id`, if leader, is the only leader of its term; reports whether it is newly observed.
    ///
    /// - Parameters:
    ///   - id: a node.
    ///   - node: its state machine.
    /// - Returns: true if `node` is a leader not seen before in its term (check completeness then).
    /// - Throws: ``SafetyViolation`` for a second leader in one term.
    public mutating func checkElectionSafety(id: UInt64, node: RaftNode) throws -> Bool {
        guard node.role == .leader else { return false }
        if let existing = leaderOfTerm[node.term] {
            if existing != id {
                throw SafetyViolation(property: "election safety",
                                      detail: "nodes \(existing) and \(id) both leader in term \(node.term)")
            }
            return false
        }
        leaderOfTerm[node.term] = id
        return true
    }

    /// Leader completeness (§5.4): a new leader's log contains every entry applied anywhere (those below its
    /// snapshot are covered by it, and the state-machine check covers them).
    ///
    /// - Parameters:
    ///   - id: the leader.
    ///   - node: its state machine.
    /// - Throws: ``SafetyViolation`` for a missing or different entry.
    public func checkLeaderCompleteness(id: UInt64, node: RaftNode) throws {
        let first = node.firstIndex
        let last = node.lastIndex
        if maxApplied > last {
            throw SafetyViolation(property: "leader completeness",
                                  detail: "leader \(id) term \(node.term) lastIndex \(last) < applied \(maxApplied)")
        }
        var index = max(first, 1)
        while index <= maxApplied {
            let expected = appliedTerms[Int(index - 1)]
            let actual = node.term(at: index)
            if actual != expected {
                throw SafetyViolation(
                    property: "leader completeness",
                    detail: "leader \(id) term \(node.term) has term \(actual.map(String.init) ?? "nil") at "
                        + "index \(index), committed entry has term \(expected)")
            }
            index += 1
        }
    }

    /// Log matching: records (or compares) each entry a node is about to persist.
    ///
    /// - Parameters:
    ///   - id: the node.
    ///   - newEntries: ``Ready/entries``.
    ///   - node: the node (for the term before the first entry).
    /// - Throws: ``SafetyViolation`` if one (index, term) pair names two different entries or predecessors.
    public mutating func checkLogMatching(id: UInt64, newEntries: [Entry], node: RaftNode) throws {
        guard let first = newEntries.first else { return }
        var prevTerm = node.term(at: first.index - 1) ?? UInt64.max
        for entry in newEntries {
            let key = EntryIdentity(index: entry.index, term: entry.term)
            let facts = EntryFacts(prevTerm: prevTerm, kind: entry.kind, data: entry.data)
            if let known = entries[key] {
                let prevDiffers = known.prevTerm != facts.prevTerm && prevTerm != UInt64.max
                    && known.prevTerm != UInt64.max
                if known.kind != facts.kind || known.data != facts.data || prevDiffers {
                    throw SafetyViolation(
                        property: "log matching",
                        detail: "node \(id): entry \(entry.index)/\(entry.term) differs (prevTerm \(prevTerm) vs "
                            + "\(known.prevTerm), data \(entry.data) vs \(known.data))")
                }
                if known.prevTerm == UInt64.max { entries[key] = facts }
            } else {
                entries[key] = facts
            }
            prevTerm = entry.term
        }
    }

    /// State machine safety for one applied entry.
    ///
    /// - Parameters:
    ///   - id: the node.
    ///   - entry: the entry applied.
    ///   - before: the node's state machine before applying it.
    ///   - after: its state machine after.
    /// - Throws: ``SafetyViolation`` for a gap, a reordering, or a different entry at an index.
    public mutating func checkApply(id: UInt64, entry: Entry, before: SimulatedStateMachine,
                                    after: SimulatedStateMachine) throws {
        if entry.index != before.applied + 1 {
            throw SafetyViolation(property: "state machine safety",
                                  detail: "node \(id) applied \(entry.index) after \(before.applied)")
        }
        try record(id: id, index: entry.index, term: entry.term, hash: after.hash)
    }

    /// State machine safety for a snapshot restore: its state must be the one reached at its index.
    ///
    /// - Parameters:
    ///   - id: the node.
    ///   - snapshot: the snapshot.
    ///   - before: the node's state machine before.
    /// - Throws: ``SafetyViolation`` if it goes backwards or its state differs.
    public mutating func checkRestore(id: UInt64, snapshot: Snapshot, before: SimulatedStateMachine) throws {
        let index = snapshot.metadata.index
        if index <= before.applied {
            throw SafetyViolation(property: "state machine safety",
                                  detail: "node \(id) restored snapshot \(index) at applied \(before.applied)")
        }
        let restored = SimulatedStateMachine(snapshot: snapshot)
        guard index <= maxApplied else {
            throw SafetyViolation(property: "state machine safety",
                                  detail: "node \(id) restored snapshot \(index) nobody applied (max \(maxApplied))")
        }
        if appliedHashes[Int(index - 1)] != restored.hash || appliedTerms[Int(index - 1)] != snapshot.metadata.term {
            throw SafetyViolation(property: "state machine safety",
                                  detail: "node \(id) snapshot at \(index) differs from the applied state there")
        }
    }

    private mutating func record(id: UInt64, index: UInt64, term: UInt64, hash: UInt64) throws {
        let position = Int(index - 1)
        if position < appliedTerms.count {
            if appliedTerms[position] != term || appliedHashes[position] != hash {
                throw SafetyViolation(
                    property: "state machine safety",
                    detail: "node \(id) applied term \(term) at index \(index), another node applied term "
                        + "\(appliedTerms[position]) (or a different state)")
            }
        } else if position == appliedTerms.count {
            appliedTerms.append(term)
            appliedHashes.append(hash)
        } else {
            throw SafetyViolation(property: "state machine safety",
                                  detail: "node \(id) applied \(index) but index \(appliedTerms.count + 1) never was")
        }
    }
}

// MARK: - Sendable

extension SafetyChecker: Sendable {}
