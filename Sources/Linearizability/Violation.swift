/// A counterexample: part of one key's history that has no linearization.
public struct Violation: Sendable, Hashable {
    /// The key whose history is not linearizable.
    public let key: ByteString
    /// The offending sub-history, sorted by invocation time. Still not linearizable on
    /// its own, and shrunk until removing any single operation makes it linearizable,
    /// except for writes and deletes a remaining read may have got its value from:
    /// those stay, so the counterexample never rests on a value nobody wrote.
    public let operations: [StoreOperation]
    /// Whether shrinking ran to completion; `false` when its work bound ran out first,
    /// in which case `operations` is non-linearizable but perhaps not minimal.
    public let isMinimal: Bool

    /// Creates a violation; `operations` are sorted by invocation time.
    public init(key: ByteString, operations: [StoreOperation], isMinimal: Bool) {
        self.key = key
        self.operations = operations.sorted { ($0.invokeTime, $0.client) < ($1.invokeTime, $1.client) }
        self.isMinimal = isMinimal
    }
}

extension Violation: CustomStringConvertible {
    /// The key and the offending operations in invocation order, one per line, with
    /// times in milliseconds relative to the first invocation.
    public var description: String {
        let origin = operations.first?.invokeTime ?? 0
        let shrinkNote = isMinimal ? "minimal" : "shrinking stopped early"
        var lines = ["key \(key) has no linearization; offending sub-history "
            + "(\(operations.count) operations, \(shrinkNote)):"]
        for operation in operations {
            let invoked = Self.milliseconds(operation.invokeTime - origin)
            let completed = operation.completeTime.map { Self.milliseconds($0 - origin) } ?? "?"
            let result = switch operation.kind {
            case .read(let observed) where operation.completeTime != nil: observed?.description ?? "nil"
            case .read, .write, .delete: operation.completeTime == nil ? "unknown" : "ok"
            }
            lines.append("  client \(operation.client) [\(invoked) ms, \(completed) ms] "
                + "\(Self.call(operation)) -> \(result)")
        }
        return lines.joined(separator: "\n")
    }

    private static func call(_ operation: StoreOperation) -> String {
        switch operation.kind {
        case .read: "get \(operation.key)"
        case .write(let value): "put \(operation.key) \(value)"
        case .delete: "delete \(operation.key)"
        }
    }

    /// Nanoseconds as milliseconds with three decimals, rounded to the microsecond.
    private static func milliseconds(_ nanoseconds: UInt64) -> String {
        let microseconds = nanoseconds / 1_000 + (nanoseconds % 1_000 >= 500 ? 1 : 0)
        let fraction = String(microseconds % 1_000)
        return "\(microseconds / 1_000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
