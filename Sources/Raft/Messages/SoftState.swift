/// Volatile state, useful for logging and routing; need not be persisted.
public struct SoftState {
    /// The leader this node currently knows, or 0.
    public var leader: UInt64
    /// This node's role.
    public var role: StateRole

    /// Creates a soft state.
    ///
    /// - Parameters:
    ///   - leader: known leader id or 0.
    ///   - role: the role.
    public init(leader: UInt64, role: StateRole) {
        self.leader = leader
        self.role = role
    }
}

// MARK: - Equatable

extension SoftState: Equatable {}

// MARK: - Sendable

extension SoftState: Sendable {}
