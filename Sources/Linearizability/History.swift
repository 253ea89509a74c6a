/// A recorded history: every operation clients issued against the store during a run.
///
/// Order does not matter; the checker orders operations by their times.
/// See ``StoreOperation`` for what belongs in a history and
/// ``History/init(parsing:)`` for the text format.
public struct History: Sendable, Hashable {
    /// The recorded operations, in any order.
    public var operations: [StoreOperation]

    /// Creates a history from recorded operations.
    public init(_ operations: [StoreOperation] = []) {
        self.operations = operations
    }

    /// Records one more operation.
    public mutating func append(_ operation: StoreOperation) {
        operations.append(operation)
    }
}
