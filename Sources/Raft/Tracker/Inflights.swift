/// The append messages sent to one follower in the replicate state and not yet acknowledged, by the last
/// index each carried. Bounds how far a leader runs ahead of a slow follower.
struct Inflights {
    let capacity: Int
    private(set) var lastIndexes: [UInt64] = []

    init(capacity: Int) {
        self.capacity = capacity
    }

    var isFull: Bool { lastIndexes.count >= capacity }
    var count: Int { lastIndexes.count }

    mutating func add(_ index: UInt64) {
        precondition(!isFull, "inflights overflow")
        lastIndexes.append(index)
    }

    /// Frees the messages whose last index is `<= index` (acknowledged).
    mutating func freeLE(_ index: UInt64) {
        var n = 0
        while n < lastIndexes.count && lastIndexes[n] <= index {
            n += 1
        }
        if n > 0 { lastIndexes.removeFirst(n) }
    }

    /// Frees the oldest message, so a heartbeat response can unblock a follower whose acks were lost.
    mutating func freeFirst() {
        if !lastIndexes.isEmpty { lastIndexes.removeFirst() }
    }

    mutating func reset() {
        lastIndexes.removeAll(keepingCapacity: true)
    }
}

// MARK: - Equatable

extension Inflights: Equatable {}

// MARK: - Sendable

extension Inflights: Sendable {}
