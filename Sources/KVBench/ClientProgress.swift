/// What one client thread has done so far, read by the progress line while the client runs.
final class ClientProgress {
    private let lock = BenchLock()
    private var operations = 0
    private var errors = 0
    private var done = false

    /// Counts finished operations.
    func add(operations count: Int, errors errorCount: Int) {
        lock.withLock {
            operations += count
            errors += errorCount
        }
    }

    /// Marks the client finished.
    func finish() {
        lock.withLock { done = true }
    }

    /// The counts so far and whether the client is finished.
    var snapshot: (operations: Int, errors: Int, done: Bool) {
        lock.withLock { (operations, errors, done) }
    }
}

// MARK: - Sendable

// All state is guarded by `lock`.
extension ClientProgress: @unchecked Sendable {}
