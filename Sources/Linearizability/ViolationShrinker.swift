/// Shrinks one key's non-linearizable history to a small sub-history that is still
/// not linearizable.
///
/// It removes chunks of operations, delta-debugging style, halving the chunk size
/// whenever no chunk can go, down to single operations, until no single removal
/// keeps the history non-linearizable. Operations are ordered by invocation first,
/// so early attempts cut whole stretches of time, such as everything after the
/// anomaly.
///
/// Reads can always be removed; a write or delete only once no remaining read could
/// have taken its value from it (see ``ReadSources``; such mutations stay behind when
/// their chunk goes). Removing a possible source of a read could make the rest
/// non-linearizable for a reason the full history does not have, e.g. a read of a
/// value nobody wrote any more. With this rule adding the removed operations back
/// never makes the counterexample linearizable: it shows a real anomaly of the full
/// history.
struct ViolationShrinker {
    /// Search budget for each check.
    let maxExploredStates: Int
    /// Search budget for all checks together.
    let maxTotalStates: Int

    /// Returns the shrunk operations and whether shrinking ran to completion.
    func shrink(_ operations: [StoreOperation]) -> (operations: [StoreOperation], isMinimal: Bool) {
        if let orphan = RegisterHistory(operations).orphanRead {
            // A lone read of a value nobody wrote: nothing smaller fails.
            return ([orphan], true)
        }
        let ordered = operations.enumerated()
            .sorted { ($0.element.invokeTime, $0.offset) < ($1.element.invokeTime, $1.offset) }
            .map(\.element)

        var remainingStates = maxTotalStates
        var isConclusive = true
        // `nil` once the budget is spent; an inconclusive search counts as "no".
        func stillFails(_ candidate: [Int]) -> Bool? {
            guard remainingStates > 0 else { return nil }
            let (verdict, exploredStates) = RegisterSearch.check(
                candidate.map { ordered[$0] }, maxExploredStates: min(maxExploredStates, remainingStates))
            remainingStates -= max(exploredStates, 1)
            switch verdict {
            case .notLinearizable: return true
            case .linearizable: return false
            case .budgetExceeded:
                isConclusive = false
                return false
            }
        }

        var current = Array(ordered.indices)
        var chunkCount = 2
        while current.count > 1 {
            let chunkSize = (current.count + chunkCount - 1) / chunkCount
            var removedChunk = false
            for start in stride(from: 0, to: current.count, by: chunkSize) {
                let end = min(start + chunkSize, current.count)
                let chunk = current[start..<end]
                let rest = current[..<start] + current[end...]
                let sources = ReadSources(remaining: rest.map { ordered[$0] }, current: current.map { ordered[$0] })
                let removed = Set(chunk.filter { !sources.mustKeep(ordered[$0]) })
                guard !removed.isEmpty else { continue }
                let candidate = current.filter { !removed.contains($0) }
                guard let fails = stillFails(candidate) else {
                    return (current.map { ordered[$0] }, false)
                }
                if fails {
                    current = candidate
                    chunkCount = max(chunkCount - 1, 2)
                    removedChunk = true
                    break
                }
            }
            if !removedChunk {
                if chunkSize == 1 { break }
                chunkCount = min(chunkCount * 2, current.count)
            }
        }
        return (current.map { ordered[$0] }, isConclusive)
    }
}
