/// Depth-first search for a linearization of one key's history: Wing & Gong's
/// algorithm with Lowe's just-in-time linearization and memoization of visited
/// (linearized set, register value) pairs.
///
/// Events live in doubly linked lists so an operation can be lifted out when it is
/// linearized and put back in O(1) when the search backtracks. Completed operations
/// have a call and a return event in time order; unknown-outcome operations have
/// only a call (their return is at +infinity) in a list of their own.
///
/// At each search node the candidates are the operations whose call precedes the
/// earliest return of a not-yet-linearized completed operation (the deadline; its
/// operation is the deadline operation). Plain Wing & Gong branches on every
/// candidate. Register
/// semantics let this search branch far less, without losing linearizations
/// (`BruteForceOracleTests` cross-checks this against exhaustive search):
///
/// - Free moves, taken without branching: a candidate read that matches the current
///   value (reads do not change the register, so some linearization takes it
///   first); else, if no remaining read observes the current value, a completed
///   candidate mutation whose value no remaining read observes (it is directly
///   followed by another mutation, so it can go first).
/// - A mutation whose value is read next is linearized only once such a read is a
///   candidate, or when its own return is the deadline. An unknown-outcome
///   mutation only in the first case: one not directly followed by a read of its
///   value can be left out instead. Of several candidates writing the same value,
///   only the one returning first is tried (swapping them keeps a linearization).
/// - A completed mutation directly followed by another mutation (a spacer that is
///   overwritten at once) is not placed eagerly: when its return becomes the
///   deadline it is discharged, i.e. taken without changing the value, provided a
///   mutation was linearized since it became a candidate (it is deemed to sit just
///   before that one). Hence the state tracks the deadline at the last mutation.
/// - A node fails at once if some remaining read observes a value that is not the
///   current one and that no remaining mutation writes (a starved read).
///
/// The memo prunes by dominance: a state that differs from a failed one only by
/// having linearized more unknown-outcome operations (which can always be left
/// out) or by a lower last-mutation deadline (fewer discharges allowed) fails too.
struct RegisterSearch {
    enum Verdict: Equatable {
        case linearizable
        case notLinearizable
        /// The search explored `maxExploredStates` states without a verdict.
        case budgetExceeded
    }

    /// Checks one key's operations; also reports how many states the search explored.
    static func check(
        _ operations: [StoreOperation], maxExploredStates: Int
    ) -> (verdict: Verdict, exploredStates: Int) {
        let history = RegisterHistory(operations)
        if history.orphanRead != nil { return (.notLinearizable, 0) }
        var search = RegisterSearch(history, maxExploredStates: maxExploredStates)
        let verdict = search.run()
        return (verdict, search.exploredStates)
    }

    /// Where the search stands within the current node.
    private enum Cursor {
        /// Not examined yet: check for starved reads, then look for a free move.
        case freshNode
        /// Trying completed candidates from this list node on.
        case completed(Int, deadlineNode: Int)
        /// Trying to discharge the deadline operation.
        case discharge(deadlineNode: Int)
        /// Trying unknown-outcome candidates from this list node on.
        case unknown(Int, deadline: UInt64)
    }

    private enum Move {
        /// Linearized without branching; if its subtree fails, its node fails too.
        case free
        /// One of several alternatives at its node.
        case choice
        /// A spacer taken without changing the value.
        case discharge
    }

    private enum Attempt {
        case accepted
        case alreadyExplored
        case budgetExceeded
    }

    /// A move on the current path and what is needed to undo it.
    private struct Frame {
        var step: Int
        var move: Move
        var stateBefore: Int32
        var lastMutationDeadlineBefore: UInt64?
    }

    /// What a visited state records beyond its memo key.
    private struct Visit {
        var linearizedUnknown: OperationSet
        var lastMutationDeadline: UInt64?

        /// Whether failing here implies failing in a state with these values.
        func dominates(_ unknown: OperationSet, _ deadline: UInt64?) -> Bool {
            guard linearizedUnknown.isSubset(of: unknown) else { return false }
            guard let deadline else { return true }
            return lastMutationDeadline.map { $0 >= deadline } ?? false
        }
    }

    // List nodes 0...3 are sentinels; event nodes follow.
    private static let completedHead = 0
    private static let completedTail = 1
    private static let unknownHead = 2
    private static let unknownTail = 3

    private let steps: [RegisterHistory.Step]
    private let maxExploredStates: Int
    /// Completed operations are steps `0..<completedCount`, unknown ones the rest.
    private let completedCount: Int
    /// Random per-operation values whose XOR over the linearized completed operations
    /// is a cheap, incrementally maintained hash of that set.
    private let stepFingerprints: [UInt64]

    private var next: [Int]
    private var previous: [Int]
    private var nodeStep: [Int]
    private var nodeIsReturn: [Bool]
    private var nodeTime: [UInt64]
    private var callNode: [Int]
    /// -1 for unknown-outcome operations, which have no return event.
    private var returnNode: [Int]

    private var state = RegisterHistory.absent
    /// The deadline at the node where the last mutation on the path was linearized
    /// (normalized, see `latestDischargeableInvocation`); a pending spacer invoked
    /// by then may be discharged.
    private var lastMutationDeadline: UInt64?
    private var linearizedCompleted: OperationSet
    /// Indexed by step minus `completedCount`.
    private var linearizedUnknown: OperationSet
    private var fingerprint: UInt64 = 0
    private var remainingCompleted: Int
    /// Per value: reads observing it and mutations writing it, not yet linearized.
    private var remainingReaders: [Int]
    private var remainingWriters: [Int]
    /// Values with remaining readers but no remaining writers.
    private var unwritableValues = 0
    private var trail: [Frame] = []
    private var visited: [MemoKey: [Visit]] = [:]
    private var exploredStates = 0

    private init(_ history: RegisterHistory, maxExploredStates: Int) {
        let steps = history.steps
        self.steps = steps
        self.maxExploredStates = maxExploredStates
        var seed: UInt64 = 0x5EED
        stepFingerprints = (0..<history.completedCount).map { _ in Self.splitMix64(&seed) }
        completedCount = history.completedCount
        linearizedCompleted = OperationSet(capacity: history.completedCount)
        linearizedUnknown = OperationSet(capacity: steps.count - history.completedCount)

        remainingReaders = Array(repeating: 0, count: history.valueCount)
        remainingWriters = Array(repeating: 0, count: history.valueCount)
        for step in steps {
            switch step.effect {
            case .read(let value): remainingReaders[Int(value)] += 1
            case .write(let value): remainingWriters[Int(value)] += 1
            }
        }
        unwritableValues = zip(remainingReaders, remainingWriters).count { $0 > 0 && $1 == 0 }

        // Ties: at the same instant, invocations sort before returns, so operations
        // that merely touch are treated as concurrent (never falsely ordered).
        var completedEvents: [(time: UInt64, rank: Int, step: Int)] = []
        var unknownCalls: [(time: UInt64, step: Int)] = []
        for (index, step) in steps.enumerated() {
            if let completeTime = step.completeTime {
                completedEvents.append((step.invokeTime, 0, index))
                completedEvents.append((completeTime, 1, index))
            } else {
                unknownCalls.append((step.invokeTime, index))
            }
        }
        completedEvents.sort { ($0.time, $0.rank, $0.step) < ($1.time, $1.rank, $1.step) }
        unknownCalls.sort { ($0.time, $0.step) < ($1.time, $1.step) }
        remainingCompleted = completedEvents.count / 2

        let nodeCount = 4 + completedEvents.count + unknownCalls.count
        next = Array(repeating: -1, count: nodeCount)
        previous = Array(repeating: -1, count: nodeCount)
        nodeStep = Array(repeating: -1, count: nodeCount)
        nodeIsReturn = Array(repeating: false, count: nodeCount)
        nodeTime = Array(repeating: 0, count: nodeCount)
        callNode = Array(repeating: -1, count: steps.count)
        returnNode = Array(repeating: -1, count: steps.count)

        var node = 4
        var last = Self.completedHead
        for event in completedEvents {
            nodeStep[node] = event.step
            nodeTime[node] = event.time
            nodeIsReturn[node] = event.rank == 1
            if event.rank == 1 { returnNode[event.step] = node } else { callNode[event.step] = node }
            link(last, node)
            last = node
            node += 1
        }
        link(last, Self.completedTail)
        last = Self.unknownHead
        for call in unknownCalls {
            nodeStep[node] = call.step
            nodeTime[node] = call.time
            callNode[call.step] = node
            link(last, node)
            last = node
            node += 1
        }
        link(last, Self.unknownTail)
    }

    private mutating func run() -> Verdict {
        var cursor = Cursor.freshNode
        while remainingCompleted > 0 {
            let attempt: Attempt
            // Where to continue if the attempt hits an explored state; `nil`: the node is done.
            let sibling: Cursor?
            switch cursor {
            case .freshNode:
                if hasStarvedRead() {
                    attempt = .alreadyExplored
                    sibling = nil
                } else if let step = freeMove() {
                    attempt = take(step, as: .free)
                    sibling = nil
                } else {
                    cursor = .completed(next[Self.completedHead], deadlineNode: deadlineNode())
                    continue
                }

            case .completed(let node, let deadlineNode):
                if node == deadlineNode {
                    cursor = .discharge(deadlineNode: deadlineNode)
                    continue
                }
                let step = nodeStep[node]
                guard isMutation(step), returnNode[step] == deadlineNode || isAwaited(step),
                      !hasPreferredTwin(step) else {
                    cursor = .completed(next[node], deadlineNode: deadlineNode)
                    continue
                }
                attempt = take(step, as: .choice)
                sibling = .completed(next[node], deadlineNode: deadlineNode)

            case .discharge(let deadlineNode):
                let step = nodeStep[deadlineNode]
                let afterwards = Cursor.unknown(next[Self.unknownHead], deadline: nodeTime[deadlineNode])
                guard isMutation(step), let lastMutationDeadline,
                      lastMutationDeadline >= steps[step].invokeTime else {
                    cursor = afterwards
                    continue
                }
                attempt = take(step, as: .discharge)
                sibling = afterwards

            case .unknown(let node, let deadline):
                if node == Self.unknownTail || nodeTime[node] > deadline {
                    attempt = .alreadyExplored
                    sibling = nil
                } else if isAwaited(nodeStep[node]), !hasPreferredTwin(nodeStep[node]) {
                    attempt = take(nodeStep[node], as: .choice)
                    sibling = .unknown(next[node], deadline: deadline)
                } else {
                    cursor = .unknown(next[node], deadline: deadline)
                    continue
                }
            }

            switch (attempt, sibling) {
            case (.accepted, _):
                cursor = .freshNode
            case (.alreadyExplored, let sibling?):
                cursor = sibling
            case (.alreadyExplored, nil):
                guard let resumed = backtrack() else { return .notLinearizable }
                cursor = resumed
            case (.budgetExceeded, _):
                return .budgetExceeded
            }
        }
        // Whatever unknown-outcome operations remain can be omitted.
        return .linearizable
    }

    /// The return event of the earliest-returning completed operation not yet taken.
    private func deadlineNode() -> Int {
        var node = next[Self.completedHead]
        while !nodeIsReturn[node] { node = next[node] }
        return node
    }

    private func hasStarvedRead() -> Bool {
        let current = Int(state)
        let currentIsUnwritable = remainingReaders[current] > 0 && remainingWriters[current] == 0
        return unwritableValues > (currentIsUnwritable ? 1 : 0)
    }

    private func isMutation(_ step: Int) -> Bool {
        if case .write = steps[step].effect { true } else { false }
    }

    /// The deadline at the last mutation matters only through which pending completed
    /// mutations were invoked by then; normalizing it to the latest such invocation
    /// lets paths that differ only in that deadline share memo entries.
    private func latestDischargeableInvocation(upTo deadline: UInt64?, excluding excluded: Int) -> UInt64? {
        guard let deadline else { return nil }
        var latest: UInt64?
        var node = next[Self.completedHead]
        while node != Self.completedTail, nodeTime[node] <= deadline {
            if !nodeIsReturn[node], nodeStep[node] != excluded, isMutation(nodeStep[node]) {
                latest = nodeTime[node]
            }
            node = next[node]
        }
        return latest
    }

    /// Whether another candidate mutation writing the same value makes trying this
    /// one redundant. Swapping two such twins in a linearization keeps it valid as
    /// long as the one used later has the later (or no) return, so only the twin
    /// returning first is tried: a completed one before any unknown-outcome one, and
    /// among unknown ones the earliest invoked (which also keeps the memo's unknown
    /// sets canonical).
    private func hasPreferredTwin(_ step: Int) -> Bool {
        let effect = steps[step].effect
        var node = next[Self.completedHead]
        while !nodeIsReturn[node] {
            let twin = nodeStep[node]
            if twin != step, steps[twin].effect == effect, returnNode[step] < 0 || returnNode[twin] < returnNode[step] {
                return true
            }
            node = next[node]
        }
        guard returnNode[step] < 0 else { return false }
        node = next[Self.unknownHead]
        while node != callNode[step] {
            if steps[nodeStep[node]].effect == effect { return true }
            node = next[node]
        }
        return false
    }

    /// Whether a candidate read observes the value the mutation writes.
    private func isAwaited(_ step: Int) -> Bool {
        guard case .write(let written) = steps[step].effect else { return false }
        var node = next[Self.completedHead]
        while !nodeIsReturn[node] {
            if case .read(let value) = steps[nodeStep[node]].effect, value == written { return true }
            node = next[node]
        }
        return false
    }

    /// A candidate that can be taken without branching: a read matching the current
    /// value, else, once no remaining read observes the current value, a completed
    /// mutation whose value no remaining read observes.
    private func freeMove() -> Int? {
        // A read of the current value that becomes a candidate only after a discharge
        // must not find it overwritten.
        let mayOverwrite = remainingReaders[Int(state)] == 0
        var deadMutation: Int?
        var node = next[Self.completedHead]
        while !nodeIsReturn[node] {
            let step = nodeStep[node]
            switch steps[step].effect {
            case .read(let value) where value == state:
                return step
            case .read:
                break
            case .write(let value):
                if mayOverwrite, deadMutation == nil, remainingReaders[Int(value)] == 0 { deadMutation = step }
            }
            node = next[node]
        }
        return deadMutation
    }

    private mutating func take(_ step: Int, as move: Move) -> Attempt {
        var newState = state
        var newLastMutationDeadline = lastMutationDeadline
        if move != .discharge, case .write(let value) = steps[step].effect {
            newState = value
            newLastMutationDeadline = nodeTime[deadlineNode()]
        }
        newLastMutationDeadline = latestDischargeableInvocation(upTo: newLastMutationDeadline, excluding: step)

        addToLinearized(step)
        let key = MemoKey(fingerprint: fingerprint, state: newState, linearizedCompleted: linearizedCompleted)
        if visited[key]?.contains(where: { $0.dominates(linearizedUnknown, newLastMutationDeadline) }) == true {
            removeFromLinearized(step)
            return .alreadyExplored
        }
        visited[key, default: []].append(
            Visit(linearizedUnknown: linearizedUnknown, lastMutationDeadline: newLastMutationDeadline))
        exploredStates += 1
        if exploredStates > maxExploredStates { return .budgetExceeded }

        trail.append(Frame(step: step, move: move, stateBefore: state,
                           lastMutationDeadlineBefore: lastMutationDeadline))
        state = newState
        lastMutationDeadline = newLastMutationDeadline
        unlink(callNode[step])
        if returnNode[step] >= 0 {
            unlink(returnNode[step])
            remainingCompleted -= 1
        }
        switch steps[step].effect {
        case .read(let value):
            let value = Int(value)
            remainingReaders[value] -= 1
            if remainingReaders[value] == 0 && remainingWriters[value] == 0 { unwritableValues -= 1 }
        case .write(let value):
            let value = Int(value)
            remainingWriters[value] -= 1
            if remainingWriters[value] == 0 && remainingReaders[value] > 0 { unwritableValues += 1 }
        }
        return .accepted
    }

    /// Undoes moves until one whose node has untried alternatives; returns where to
    /// continue, or `nil` when the whole search space is exhausted.
    private mutating func backtrack() -> Cursor? {
        while let frame = trail.popLast() {
            let step = frame.step
            switch steps[step].effect {
            case .read(let value):
                let value = Int(value)
                if remainingReaders[value] == 0 && remainingWriters[value] == 0 { unwritableValues += 1 }
                remainingReaders[value] += 1
            case .write(let value):
                let value = Int(value)
                if remainingWriters[value] == 0 && remainingReaders[value] > 0 { unwritableValues -= 1 }
                remainingWriters[value] += 1
            }
            // Relink in the reverse order of unlinking so the lists are restored exactly.
            if returnNode[step] >= 0 {
                relink(returnNode[step])
                remainingCompleted += 1
            }
            relink(callNode[step])
            state = frame.stateBefore
            lastMutationDeadline = frame.lastMutationDeadlineBefore
            removeFromLinearized(step)

            switch frame.move {
            case .free:
                continue
            case .choice where step < completedCount:
                return .completed(next[callNode[step]], deadlineNode: deadlineNode())
            case .choice:
                return .unknown(next[callNode[step]], deadline: nodeTime[deadlineNode()])
            case .discharge:
                return .unknown(next[Self.unknownHead], deadline: nodeTime[deadlineNode()])
            }
        }
        return nil
    }

    private mutating func addToLinearized(_ step: Int) {
        if step < completedCount {
            linearizedCompleted.insert(step)
            fingerprint ^= stepFingerprints[step]
        } else {
            linearizedUnknown.insert(step - completedCount)
        }
    }

    private mutating func removeFromLinearized(_ step: Int) {
        if step < completedCount {
            linearizedCompleted.remove(step)
            fingerprint ^= stepFingerprints[step]
        } else {
            linearizedUnknown.remove(step - completedCount)
        }
    }

    private mutating func link(_ first: Int, _ second: Int) {
        next[first] = second
        previous[second] = first
    }

    private mutating func unlink(_ node: Int) {
        next[previous[node]] = next[node]
        previous[next[node]] = previous[node]
    }

    private mutating func relink(_ node: Int) {
        next[previous[node]] = node
        previous[next[node]] = node
    }

    private static func splitMix64(_ seed: inout UInt64) -> UInt64 {
        seed &+= 0x9E37_79B9_7F4A_7C15
        var mixed = seed
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// A visited search state, up to unknown-outcome operations: which completed
/// operations are linearized and the register value.
private struct MemoKey {
    /// Hash of `linearizedCompleted`, kept incrementally so lookups need not rehash it.
    let fingerprint: UInt64
    let state: Int32
    let linearizedCompleted: OperationSet
}

extension MemoKey: Hashable {
    func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
        hasher.combine(state)
    }

    static func == (lhs: MemoKey, rhs: MemoKey) -> Bool {
        lhs.fingerprint == rhs.fingerprint && lhs.state == rhs.state
            && lhs.linearizedCompleted == rhs.linearizedCompleted
    }
}
