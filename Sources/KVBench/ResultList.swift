/// A list that client threads append to, read once they are joined.
final class ResultList {
    private let lock = BenchLock()
    private var items: [ClientResult] = []

    func append(_ item: ClientResult) { lock.withLock { items.append(item) } }
    var all: [ClientResult] { lock.withLock { items } }
}

// MARK: - Sendable

// All state is guarded by `lock`.
extension ResultList: @unchecked Sendable {}
