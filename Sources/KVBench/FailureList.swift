/// The failures of load threads.
final class FailureList {
    private let lock = BenchLock()
    private var items: [DriverError] = []

    func append(_ item: DriverError) { lock.withLock { items.append(item) } }
    var first: DriverError? { lock.withLock { items.first } }
}

// MARK: - Sendable

// All state is guarded by `lock`.
extension FailureList: @unchecked Sendable {}
