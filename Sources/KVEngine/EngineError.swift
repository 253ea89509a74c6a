import CLMDB

/// An error from the storage engine: an LMDB return code or a rule the engine enforces itself.
///
/// Compare against the static members (`error == .mapFull`); the ``message`` says what happened in words a
/// person can act on. New cases may be added, so `switch` over ``code`` with a default.
public struct EngineError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, as a stable value to match on.
    public enum Code: Hashable, Sendable {
        /// An LMDB return code (`MDB_*` or an `errno` value) that has no case of its own.
        case lmdb(Int32)
        /// The key is longer than the engine accepts (see ``Environment/maxKeySize``).
        case keyTooLarge
        /// LMDB does not store empty keys.
        case emptyKey
        /// The map is full and may not grow any more (``EnvironmentOptions/maxMapSize``).
        case mapFull
        /// Another process holds the data directory open for writing.
        case directoryLocked
        /// The data directory does not exist.
        case directoryMissing
        /// The directory exists but holds no LMDB environment, or a damaged one.
        case notAnEnvironment
        /// The data file is shorter than its meta page says: pages the database refers to are missing.
        case truncated
        /// A column family is missing from an environment opened read-only.
        case columnFamilyMissing
        /// A write was attempted on an environment opened read-only.
        case readOnly
        /// The environment was closed.
        case closed
    }

    /// What went wrong, to match on.
    public let code: Code
    /// A one-line explanation for people.
    public let message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: The stable code.
    ///   - message: The explanation.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// Wraps an LMDB return code, naming the call that failed.
    static func lmdb(_ rc: Int32, _ call: String) -> EngineError {
        let text = String(cString: mdb_strerror(rc))
        switch rc {
        case MDB_MAP_FULL:
            return EngineError(.mapFull, "\(call): \(text)")
        case MDB_INVALID, MDB_VERSION_MISMATCH, MDB_CORRUPTED, MDB_PAGE_NOTFOUND:
            return EngineError(.notAnEnvironment, "\(call): \(text)")
        default:
            return EngineError(.lmdb(rc), "\(call): \(text)")
        }
    }
}

// MARK: - Equatable

extension EngineError: Equatable {
    /// Two errors are equal when their codes are; the message is for people only.
    public static func == (lhs: EngineError, rhs: EngineError) -> Bool { lhs.code == rhs.code }
}

// MARK: - Well-known errors

extension EngineError {
    /// The map is full and may not grow any more.
    public static let mapFull = EngineError(.mapFull, "the database reached its maximum size")
    /// The key is longer than the engine accepts.
    public static let keyTooLarge = EngineError(.keyTooLarge, "key too large")
    /// LMDB does not store empty keys.
    public static let emptyKey = EngineError(.emptyKey, "keys must not be empty")
    /// Another process holds the data directory.
    public static let directoryLocked = EngineError(.directoryLocked, "data directory in use")
    /// The data directory does not exist.
    public static let directoryMissing = EngineError(.directoryMissing, "data directory missing")
    /// The directory holds no (or a damaged) LMDB environment.
    public static let notAnEnvironment = EngineError(.notAnEnvironment, "not an LMDB environment")
    /// A column family is missing from a read-only environment.
    public static let columnFamilyMissing = EngineError(.columnFamilyMissing, "column family missing")
    /// A write on a read-only environment.
    public static let readOnly = EngineError(.readOnly, "environment is read-only")
    /// The environment was closed.
    public static let closed = EngineError(.closed, "environment is closed")
}
