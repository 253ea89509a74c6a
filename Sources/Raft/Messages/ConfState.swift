/// The membership of a Raft group: the set of voters.
public struct ConfState {
    /// Voter ids, sorted ascending and without duplicates (so iteration order is deterministic).
    public private(set) var voters: [UInt64]

    /// Creates a configuration.
    ///
    /// - Parameter voters: voter ids, in any order; duplicates are removed.
    public init(voters: [UInt64] = []) {
        var sorted = voters.sorted()
        var unique: [UInt64] = []
        unique.reserveCapacity(sorted.count)
        for id in sorted where unique.last != id {
            unique.append(id)
        }
        sorted = unique
        self.voters = sorted
    }

    /// Whether `id` is a voter.
    ///
    /// - Parameter id: a node id.
    /// - Returns: true if `id` is in ``voters``.
    public func contains(_ id: UInt64) -> Bool {
        voters.contains(id)
    }

    mutating func insert(_ id: UInt64) {
        guard !contains(id) else { return }
        voters.append(id)
        voters.sort()
    }

    mutating func remove(_ id: UInt64) {
        voters.removeAll { $0 == id }
    }
}

// MARK: - Equatable

extension ConfState: Equatable {}

// MARK: - Sendable

extension ConfState: Sendable {}
