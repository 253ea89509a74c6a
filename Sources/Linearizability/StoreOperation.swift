/// One call against the store's raw key-value API, as recorded by a client.
///
/// Times are monotonic nanoseconds taken on one clock shared by all clients:
/// `invokeTime` just before the request is sent, the completion time just after
/// the response arrives.
///
/// What belongs in a history:
/// - Operations that completed successfully, with `.ok(completedAt:)`.
/// - Writes and deletes whose fate the client could not learn (a timeout, a lost
///   connection), with `.unknown`. Such an operation may have taken effect at any
///   instant after its invocation, even after the client gave up, or never.
/// - Reads with `.unknown` are allowed but constrain nothing, so the checker drops them.
/// - Operations that failed with a *known* failure (definitely not applied) must be
///   left out by the caller.
public struct StoreOperation: Sendable, Hashable {
    /// What the operation asked for and, for a read, what it saw.
    public enum Kind: Sendable, Hashable {
        /// Read the key; `observed` is the returned value, `nil` meaning the key was absent.
        /// Ignored when the outcome is unknown.
        case read(observed: ByteString?)
        /// Set the key to the value.
        case write(ByteString)
        /// Remove the key, making it absent.
        case delete
    }

    /// Whether the client learned that the operation completed.
    public enum Outcome: Sendable, Hashable {
        /// The store acknowledged the operation at the given monotonic time (nanoseconds).
        case ok(completedAt: UInt64)
        /// The client does not know whether the operation took effect; its completion
        /// time is treated as +infinity.
        case unknown
    }

    /// The client that issued the operation; each client issues one operation at a time.
    public let client: Int
    /// The key the operation addresses.
    public let key: ByteString
    /// What the operation did.
    public let kind: Kind
    /// When the client invoked the operation, in monotonic nanoseconds.
    public let invokeTime: UInt64
    /// Whether and when the operation completed.
    public let outcome: Outcome

    /// Creates an operation.
    ///
    /// - Precondition: a known completion time is not earlier than `invokeTime`.
    public init(client: Int, key: ByteString, kind: Kind, invokeTime: UInt64, outcome: Outcome) {
        if case .ok(let completeTime) = outcome {
            precondition(completeTime >= invokeTime, "an operation cannot complete before it is invoked")
        }
        self.client = client
        self.key = key
        self.kind = kind
        self.invokeTime = invokeTime
        self.outcome = outcome
    }

    /// The completion time, or `nil` when the outcome is unknown.
    public var completeTime: UInt64? {
        switch outcome {
        case .ok(let completedAt): completedAt
        case .unknown: nil
        }
    }

    /// A read that returned `observed` (`nil`: absent); `completedAt: nil` means unknown outcome.
    public static func read(
        client: Int, key: ByteString, observed: ByteString?, invokedAt: UInt64, completedAt: UInt64?
    ) -> StoreOperation {
        StoreOperation(client: client, key: key, kind: .read(observed: observed), invokeTime: invokedAt,
                  outcome: Outcome(completedAt: completedAt))
    }

    /// A write of `value`; `completedAt: nil` means unknown outcome.
    public static func write(
        client: Int, key: ByteString, value: ByteString, invokedAt: UInt64, completedAt: UInt64?
    ) -> StoreOperation {
        StoreOperation(client: client, key: key, kind: .write(value), invokeTime: invokedAt,
                  outcome: Outcome(completedAt: completedAt))
    }

    /// A delete; `completedAt: nil` means unknown outcome.
    public static func delete(
        client: Int, key: ByteString, invokedAt: UInt64, completedAt: UInt64?
    ) -> StoreOperation {
        StoreOperation(client: client, key: key, kind: .delete, invokeTime: invokedAt,
                  outcome: Outcome(completedAt: completedAt))
    }
}

extension StoreOperation.Outcome {
    /// `.ok(completedAt:)` for a known time, `.unknown` for `nil`.
    public init(completedAt: UInt64?) {
        self = completedAt.map { .ok(completedAt: $0) } ?? .unknown
    }
}

extension StoreOperation: CustomStringConvertible {
    /// The operation as one line of the history text format.
    public var description: String {
        let completion = completeTime.map(String.init) ?? "?"
        return "\(client) \(invokeTime) \(completion) \(command)"
    }

    /// The command part of a text-format line, e.g. `get k nil`.
    var command: String {
        switch kind {
        case .read(let observed): "get \(key.token) \(observed?.token ?? "nil")"
        case .write(let value): "put \(key.token) \(value.token)"
        case .delete: "delete \(key.token)"
        }
    }
}
