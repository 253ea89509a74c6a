/// ReadIndex requests awaiting a heartbeat quorum (thesis §6.4), in arrival order.
struct ReadOnlyQueue {
    struct Pending: Equatable {
        /// Node that asked (this node for local requests).
        var from: UInt64
        /// Commit index when the request arrived.
        var index: UInt64
        var context: [UInt8]
        var acks: [UInt64: Bool]
    }

    private(set) var pending: [Pending] = []

    var lastContext: [UInt8]? { pending.last?.context }

    /// Queues a request; a context already pending is ignored (contexts must be unique).
    mutating func add(from: UInt64, index: UInt64, context: [UInt8]) {
        guard !pending.contains(where: { $0.context == context }) else { return }
        pending.append(Pending(from: from, index: index, context: context, acks: [:]))
    }

    /// Records `id`'s heartbeat acknowledgement for `context` (and, implicitly, for every request queued
    /// before it, since the heartbeat carrying `context` was sent after those requests arrived).
    mutating func recordAck(from id: UInt64, context: [UInt8]) -> [UInt64: Bool]? {
        guard let i = pending.firstIndex(where: { $0.context == context }) else { return nil }
        pending[i].acks[id] = true
        return pending[i].acks
    }

    /// Removes and returns every request up to and including `context`.
    mutating func release(through context: [UInt8]) -> [Pending] {
        guard let i = pending.firstIndex(where: { $0.context == context }) else { return [] }
        let done = Array(pending[...i])
        pending.removeFirst(i + 1)
        return done
    }
}

// MARK: - Equatable

extension ReadOnlyQueue: Equatable {}
