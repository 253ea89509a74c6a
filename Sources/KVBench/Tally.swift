/// Counts by name (errors by kind, retries by kind), mergeable across clients.
public struct Tally {
    /// The counts.
    public private(set) var counts: [String: Int] = [:]

    /// The first message seen for each name, to show what went wrong.
    public private(set) var examples: [String: String] = [:]

    /// An empty tally.
    public init() {}

    /// Adds one to `name` and keeps `example` if it is the first for that name.
    public mutating func add(_ name: String, example: String) {
        add(name)
        if examples[name] == nil { examples[name] = example }
    }

    /// Adds `amount` to `name`.
    public mutating func add(_ name: String, _ amount: Int = 1) {
        guard amount != 0 else { return }
        counts[name, default: 0] += amount
    }

    /// Adds every count of `other`.
    public mutating func merge(_ other: Tally) {
        for (name, count) in other.counts { add(name, count) }
        for (name, example) in other.examples where examples[name] == nil { examples[name] = example }
    }

    /// The sum of all counts.
    public var total: Int { counts.values.reduce(0, +) }

    /// The counts sorted by name, for stable output.
    public var sorted: [(name: String, count: Int)] {
        counts.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

// MARK: - Sendable, Hashable

extension Tally: Sendable {}
extension Tally: Hashable {}
