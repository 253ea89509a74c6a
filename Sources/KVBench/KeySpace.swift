/// The records of a run, shared by all clients: which record numbers are known to exist, and the next number
/// an insert takes (YCSB's acknowledged counter).
///
/// Reads must only target records whose insert finished, or a read racing an insert would count as a missing
/// value. Inserts finish out of order across clients, so the readable count advances only over a contiguous
/// run of finished inserts. A failed insert leaves its record unknown; choosers skip it (``isAbsent(_:)``).
public final class KeySpace {
    private let lock = BenchLock()
    private var nextNumber: Int
    private var contiguous: Int
    private var finishedAhead: Set<Int> = []
    private var failed: Set<Int> = []

    /// Creates a key space whose records `0..<loaded` exist.
    ///
    /// - Parameter loaded: The number of records the load phase wrote.
    public init(loaded: Int) {
        nextNumber = loaded
        contiguous = loaded
    }

    /// How many records may be read: every number below this one was inserted (or failed, see ``isAbsent(_:)``).
    public var readableCount: Int {
        lock.withLock { contiguous }
    }

    /// Takes the number of a new record for an insert.
    public func reserve() -> Int {
        lock.withLock {
            defer { nextNumber += 1 }
            return nextNumber
        }
    }

    /// Records the end of the insert of `number`.
    ///
    /// - Parameters:
    ///   - number: A number from ``reserve()``.
    ///   - stored: Whether the store acknowledged the insert.
    public func finish(_ number: Int, stored: Bool) {
        lock.withLock {
            if !stored { failed.insert(number) }
            if number == contiguous {
                contiguous += 1
                while finishedAhead.remove(contiguous) != nil { contiguous += 1 }
            } else {
                finishedAhead.insert(number)
            }
        }
    }

    /// Whether the insert of `number` failed, so the record may not exist.
    public func isAbsent(_ number: Int) -> Bool {
        lock.withLock { !failed.isEmpty && failed.contains(number) }
    }
}

// MARK: - Sendable

// All state is guarded by `lock`.
extension KeySpace: @unchecked Sendable {}
