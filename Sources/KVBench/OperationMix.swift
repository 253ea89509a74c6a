/// The proportions of operation kinds in a workload, and the draw of the next kind.
public struct OperationMix {
    /// The kinds with their weights, in a fixed order (weights need not sum to 1).
    public let weights: [(kind: OperationKind, weight: Double)]

    /// Creates a mix; kinds with a weight of 0 are dropped.
    ///
    /// - Parameter weights: Each kind's share.
    public init(_ weights: [(kind: OperationKind, weight: Double)]) {
        let kept = weights.filter { $0.weight > 0 }
        precondition(!kept.isEmpty, "a mix needs at least one operation kind")
        self.weights = kept
        total = kept.reduce(0) { $0 + $1.weight }
    }

    private let total: Double

    /// The share of `kind`, between 0 and 1.
    public func proportion(of kind: OperationKind) -> Double {
        (weights.first { $0.kind == kind }?.weight ?? 0) / total
    }

    /// Draws the next operation kind.
    ///
    /// - Parameter random: The client's random source.
    /// - Returns: A kind, with probability equal to its share.
    public func next(using random: inout SeededGenerator) -> OperationKind {
        if weights.count == 1 { return weights[0].kind }
        var point = random.nextUnitDouble() * total
        for entry in weights {
            if point < entry.weight { return entry.kind }
            point -= entry.weight
        }
        return weights[weights.count - 1].kind
    }
}

// MARK: - Hashable

extension OperationMix: Hashable {
    public static func == (lhs: OperationMix, rhs: OperationMix) -> Bool {
        lhs.weights.elementsEqual(rhs.weights) { $0.kind == $1.kind && $0.weight == $1.weight }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in weights {
            hasher.combine(entry.kind)
            hasher.combine(entry.weight)
        }
    }
}

// MARK: - Sendable

extension OperationMix: Sendable {}
