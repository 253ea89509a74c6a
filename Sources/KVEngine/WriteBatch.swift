/// Changes to several column families, applied atomically by ``Environment/apply(_:)``.
public struct WriteBatch: Sendable {
    /// One change.
    public enum Operation: Sendable, Hashable {
        /// Store a value.
        case put(ColumnFamily, key: [UInt8], value: [UInt8])
        /// Remove a key.
        case delete(ColumnFamily, key: [UInt8])
        /// Remove every key of a range.
        case deleteRange(ColumnFamily, KeyRange)
    }

    /// The changes, in the order they apply.
    public private(set) var operations: [Operation] = []

    /// An empty batch.
    public init() {}

    /// Whether the batch holds no change.
    public var isEmpty: Bool { operations.isEmpty }

    /// Adds a put.
    public mutating func put(_ value: [UInt8], for key: [UInt8], in columnFamily: ColumnFamily = .default) {
        operations.append(.put(columnFamily, key: key, value: value))
    }

    /// Adds a delete.
    public mutating func delete(_ key: [UInt8], in columnFamily: ColumnFamily = .default) {
        operations.append(.delete(columnFamily, key: key))
    }

    /// Adds a range delete.
    public mutating func deleteRange(_ range: KeyRange, in columnFamily: ColumnFamily = .default) {
        operations.append(.deleteRange(columnFamily, range))
    }

    /// Applies the operations inside a write transaction.
    ///
    /// - Throws: What the transaction's `put`, `delete` and `deleteRange` throw.
    public func apply(to transaction: Transaction) throws {
        for operation in operations {
            switch operation {
            case .put(let family, let key, let value): try transaction.put(value, for: key, in: family)
            case .delete(let family, let key): try transaction.delete(key, in: family)
            case .deleteRange(let family, let range): try transaction.deleteRange(range, in: family)
            }
        }
    }
}
