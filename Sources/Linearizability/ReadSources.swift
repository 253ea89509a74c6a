/// For shrinking: which writes and deletes the remaining reads may have taken their
/// values from, so that those are not removed from under them.
///
/// A mutation is a *direct source* of a read if it leaves the read's value behind
/// (absent, for a delete), was invoked before the read returned, and is not certainly
/// overwritten before the read began, i.e. not followed in real time by a remaining
/// completed mutation to another value that completed before the read was invoked.
/// Only a direct source can be immediately followed by the read in a linearization,
/// so removing anything else cannot make a linearizable history non-linearizable.
///
/// A read without any direct source (a stale read, say) still keeps the mutations
/// of its value invoked before it returned, so the counterexample shows where the
/// value came from instead of a read of a value nobody wrote.
struct ReadSources {
    private struct Read {
        var completeTime: UInt64
        /// The latest invocation of a remaining completed mutation to another value
        /// that completed before the read began; 0 when there is none.
        var overwrittenAfter: UInt64
    }

    private struct ValueReads {
        /// Sorted by completion time.
        var reads: [Read] = []
        /// `overwrittenAfter` minimized over `reads[i...]`.
        var earliestOverwriteFrom: [UInt64] = []
        /// The latest completion among reads without a direct source.
        var latestUnsourcedRead: UInt64?
    }

    private var readsByValue: [ByteString?: ValueReads] = [:]

    /// Indexes the completed reads in `remaining`; `current` holds every operation
    /// still in the history (`remaining` plus those about to be removed).
    init(remaining: [StoreOperation], current: [StoreOperation]) {
        let reads = remaining
            .compactMap { operation -> (invoke: UInt64, complete: UInt64, value: ByteString?)? in
                guard case .read(let observed) = operation.kind, let completeTime = operation.completeTime else {
                    return nil
                }
                return (operation.invokeTime, completeTime, observed)
            }
            .sorted { $0.invoke < $1.invoke }
        let completedMutations = remaining
            .compactMap { operation in
                operation.completeTime.flatMap { completeTime in
                    operation.leftBehind.map { (complete: completeTime, invoke: operation.invokeTime, value: $0.value) }
                }
            }
            .sorted { $0.complete < $1.complete }

        // Sweep reads by invocation while mutations join by completion, tracking the
        // latest invocation overall and the latest for any other value than that one's.
        var latest: (invoke: UInt64, value: ByteString?)?
        var latestOfAnotherValue: UInt64 = 0
        var joined = 0
        for read in reads {
            while joined < completedMutations.count, completedMutations[joined].complete < read.invoke {
                let mutation = completedMutations[joined]
                joined += 1
                if let best = latest, best.value == mutation.value {
                    latest = (max(best.invoke, mutation.invoke), best.value)
                } else if let best = latest, mutation.invoke <= best.invoke {
                    latestOfAnotherValue = max(latestOfAnotherValue, mutation.invoke)
                } else {
                    latestOfAnotherValue = latest?.invoke ?? 0
                    latest = (mutation.invoke, mutation.value)
                }
            }
            let overwrittenAfter = latest.map { $0.value != read.value ? $0.invoke : latestOfAnotherValue } ?? 0
            readsByValue[read.value, default: ValueReads()].reads
                .append(Read(completeTime: read.complete, overwrittenAfter: overwrittenAfter))
        }

        // Per value, the mutations in `current` by invocation, with the latest
        // completion so far (unknown outcome: never completes).
        var mutationsByValue: [ByteString?: [(invoke: UInt64, complete: UInt64)]] = [:]
        for operation in current {
            guard let result = operation.leftBehind, readsByValue[result.value] != nil else { continue }
            mutationsByValue[result.value, default: []]
                .append((operation.invokeTime, operation.completeTime ?? .max))
        }
        for (value, var valueReads) in readsByValue {
            valueReads.reads.sort { $0.completeTime < $1.completeTime }
            var earliest = UInt64.max
            valueReads.earliestOverwriteFrom = valueReads.reads.reversed().map { read in
                earliest = min(earliest, read.overwrittenAfter)
                return earliest
            }.reversed()

            let mutations = (mutationsByValue[value] ?? []).sorted { $0.invoke < $1.invoke }
            var latestCompletion: [UInt64] = []
            for mutation in mutations {
                latestCompletion.append(max(latestCompletion.last ?? 0, mutation.complete))
            }
            for read in valueReads.reads {
                let invokedBefore = mutations.partitioningIndex { $0.invoke > read.completeTime }
                guard invokedBefore > 0 else { continue }  // Nothing could have written it.
                if latestCompletion[invokedBefore - 1] < read.overwrittenAfter {
                    valueReads.latestUnsourcedRead = max(valueReads.latestUnsourcedRead ?? 0, read.completeTime)
                }
            }
            readsByValue[value] = valueReads
        }
    }

    /// Whether removing `operation` could take away where a remaining read got its value.
    func mustKeep(_ operation: StoreOperation) -> Bool {
        guard let result = operation.leftBehind, let valueReads = readsByValue[result.value] else { return false }
        if let latest = valueReads.latestUnsourcedRead, latest >= operation.invokeTime { return true }
        let firstLater = valueReads.reads.partitioningIndex { $0.completeTime >= operation.invokeTime }
        guard firstLater < valueReads.reads.count else { return false }
        guard let completeTime = operation.completeTime else { return true }
        return valueReads.earliestOverwriteFrom[firstLater] <= completeTime
    }
}

/// What a mutation leaves behind.
struct MutationResult {
    /// The value written; `nil` for a delete.
    var value: ByteString?
}

extension StoreOperation {
    /// What the operation leaves behind; `nil` for reads.
    var leftBehind: MutationResult? {
        switch kind {
        case .read: nil
        case .write(let value): MutationResult(value: value)
        case .delete: MutationResult(value: nil)
        }
    }
}

extension Array {
    /// The index of the first element satisfying `predicate`, which must be false for
    /// a prefix of the array and true for the rest (binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
