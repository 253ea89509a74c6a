/// One key's operations, reduced to what the register search needs.
///
/// Values are interned to small integers (0 is "absent"), reads with unknown
/// outcome are dropped, and so are unknown-outcome writes and deletes that no read
/// could have observed. Both reductions keep the set of valid linearizations:
/// an unknown read constrains nothing, and an unobserved unknown mutation can always
/// be omitted (no read sits between it and the next mutation, so removing it changes
/// no read's result).
struct RegisterHistory {
    /// A register operation over interned values.
    struct Step {
        enum Effect: Hashable {
            /// A read that must see this value.
            case read(Int32)
            /// A write of this value; a delete writes 0, "absent".
            case write(Int32)
        }

        var effect: Effect
        var invokeTime: UInt64
        /// `nil` when the outcome is unknown.
        var completeTime: UInt64?
    }

    /// The value every key starts with and a delete leaves behind.
    static let absent: Int32 = 0

    /// Completed steps come first, then the unknown-outcome ones.
    private(set) var steps: [Step] = []
    /// How many of `steps` completed.
    private(set) var completedCount = 0
    /// How many distinct values (including absent) the steps mention.
    private(set) var valueCount = 1
    /// A completed read that observed a value no operation on the key writes. Such a
    /// read alone is not linearizable, so no search is needed.
    private(set) var orphanRead: StoreOperation?

    init(_ operations: [StoreOperation]) {
        var valueIDs: [ByteString: Int32] = [:]
        func intern(_ value: ByteString?) -> Int32 {
            guard let value else { return Self.absent }
            if let id = valueIDs[value] { return id }
            let id = Int32(valueIDs.count + 1)
            valueIDs[value] = id
            return id
        }

        var writtenValues = Set<ByteString>()
        for operation in operations {
            if case .write(let value) = operation.kind { writtenValues.insert(value) }
        }

        // The last instant each value was seen by a read; an unknown mutation invoked
        // after that instant can never be observed.
        var lastObservation: [Int32: UInt64] = [:]
        for operation in operations {
            guard case .read(let observed) = operation.kind, let completeTime = operation.completeTime else {
                continue
            }
            if let observed, !writtenValues.contains(observed), orphanRead == nil {
                orphanRead = operation
            }
            let value = intern(observed)
            lastObservation[value] = max(lastObservation[value] ?? 0, completeTime)
            steps.append(Step(effect: .read(value), invokeTime: operation.invokeTime, completeTime: completeTime))
        }

        for operation in operations {
            let value: Int32
            switch operation.kind {
            case .read: continue
            case .write(let written): value = intern(written)
            case .delete: value = Self.absent
            }
            if operation.completeTime == nil {
                // Ties count as observable: a read completing at the instant the
                // mutation is invoked is treated as concurrent with it.
                guard let seen = lastObservation[value], seen >= operation.invokeTime else { continue }
            }
            steps.append(Step(effect: .write(value), invokeTime: operation.invokeTime,
                              completeTime: operation.completeTime))
        }
        valueCount = valueIDs.count + 1
        // Completed steps first, so the search can index them apart from unknown ones.
        steps = steps.filter { $0.completeTime != nil } + steps.filter { $0.completeTime == nil }
        completedCount = steps.count { $0.completeTime != nil }
    }
}
