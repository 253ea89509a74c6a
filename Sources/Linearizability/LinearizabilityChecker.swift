/// Checks histories of a key-value store's raw API for linearizability.
///
/// The model is one register per key, initially absent: a read returns the current
/// value (or absent), a write sets it, a delete makes it absent. Linearizability is
/// compositional, so the history is split by key and each key is checked on its own
/// (keys in byte order; the first non-linearizable key is reported).
///
/// Real-time order: operation A precedes B only if A completed strictly before B was
/// invoked. An invocation at the same instant as a completion counts as concurrent
/// with it, so equal timestamps never produce a false violation.
///
/// Unknown outcomes: a write or delete with `.unknown` outcome is treated as
/// completing at +infinity; it may be linearized at any point after its invocation,
/// or omitted entirely. A read with `.unknown` outcome is ignored.
///
/// Each key is searched depth-first for a linearization (Wing & Gong with
/// just-in-time linearization and memoization, plus register-specific pruning); a
/// key without one is reported as a ``Violation`` shrunk to a small counterexample.
public struct LinearizabilityChecker: Sendable {
    /// The most search states (distinct linearized-set and value pairs) explored for
    /// one key before giving up with ``CheckResult/unknown(_:)``. Memory grows with
    /// this bound times about (the key's operation count / 8) bytes.
    public var maxExploredStates: Int
    /// The most search states explored, over all candidate sub-histories, while
    /// shrinking a violation; when exhausted, the violation is reported unshrunk
    /// further, with ``Violation/isMinimal`` false.
    public var maxShrinkStates: Int

    /// Creates a checker with the given work bounds.
    public init(maxExploredStates: Int = 250_000, maxShrinkStates: Int = 2_500_000) {
        self.maxExploredStates = maxExploredStates
        self.maxShrinkStates = maxShrinkStates
    }

    /// Checks whether `history` is linearizable with respect to a per-key register.
    public func check(_ history: History) -> CheckResult {
        let operationsByKey = Dictionary(grouping: history.operations, by: \.key)
        var undecidedKeys: [ByteString] = []
        for key in operationsByKey.keys.sorted() {
            let operations = operationsByKey[key, default: []]
            switch RegisterSearch.check(operations, maxExploredStates: maxExploredStates).verdict {
            case .linearizable:
                continue
            case .budgetExceeded:
                undecidedKeys.append(key)
            case .notLinearizable:
                let shrinker = ViolationShrinker(
                    maxExploredStates: maxExploredStates, maxTotalStates: maxShrinkStates)
                let shrunk = shrinker.shrink(operations)
                return .notLinearizable(Violation(key: key, operations: shrunk.operations,
                                                  isMinimal: shrunk.isMinimal))
            }
        }
        if undecidedKeys.isEmpty { return .linearizable }
        let keys = undecidedKeys.map(\.description).joined(separator: ", ")
        return .unknown("search budget of \(maxExploredStates) states exceeded for key(s) \(keys)")
    }
}
