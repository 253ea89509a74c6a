import Dispatch
import KVProtocol
import Synchronization

/// Hands out timestamps to many threads of one process through one connection to the oracle, asking for as
/// many at once as threads are waiting (as TiKV's client batches its TSO requests): with N transactions
/// beginning at the same moment, one round trip serves them all.
///
/// Each timestamp is still fresh: it was handed out by the oracle after the thread asked for it.
///
/// ```swift
/// let batcher = TimestampBatcher { () throws(KVClientError) in try SchedulerClient(address: sched) }
/// let clients = (0..<16).map { _ in TxnClient.cluster(scheduler: sched, timestamps: batcher) }
/// ```
public final class TimestampBatcher: @unchecked Sendable {
    // `source` is only used on `fetcher`, a serial queue.
    private let makeSource: @Sendable () throws(KVClientError) -> any TimestampSource
    private var source: (any TimestampSource)?
    private let state = Mutex(State())

    private struct State {
        var fetching = false
        var waiting: [Waiter] = []
    }

    private final class Waiter: @unchecked Sendable {
        // Written by the fetcher before it signals `ready`; read by the owner after waiting on it.
        let ready = DispatchSemaphore(value: 0)
        var result: Result<UInt64, KVClientError>?
    }

    /// Where the round trips happen: never on a caller's thread, so no caller keeps fetching for others
    /// while its own transaction waits.
    private let fetcher = DispatchQueue(label: "kvstore.client.tso")

    /// Creates a batcher whose connection to the oracle `makeSource` opens (again after a failure).
    public init(_ makeSource: @escaping @Sendable () throws(KVClientError) -> any TimestampSource) {
        self.makeSource = makeSource
    }

    /// A fresh timestamp.
    ///
    /// - Throws: ``KVClientError`` when the oracle cannot be reached.
    public func next() throws(KVClientError) -> UInt64 {
        let me = Waiter()
        let startFetching = state.withLock { state in
            state.waiting.append(me)
            if state.fetching { return false }
            state.fetching = true
            return true
        }
        if startFetching { fetcher.async { self.fetchWhileWaiting() } }
        me.ready.wait()
        return try me.result!.get()
    }

    /// Serves batches until nobody waits: every thread that arrived while a round trip was in flight is
    /// served by the next one (at most ``SchedulerRequest/maxBatch`` at a time).
    private func fetchWhileWaiting() {
        while true {
            let batch = state.withLock { state -> [Waiter] in
                let batch = Array(state.waiting.prefix(SchedulerRequest.maxBatch))
                state.waiting.removeFirst(batch.count)
                if batch.isEmpty { state.fetching = false }
                return batch
            }
            guard !batch.isEmpty else { return }
            let result = Result { () throws(KVClientError) -> UInt64 in
                let source: any TimestampSource
                if let open = self.source {
                    source = open
                } else {
                    source = try makeSource()
                    self.source = source
                }
                do throws(KVClientError) {
                    return try source.timestamps(count: batch.count)
                } catch {
                    self.source = nil
                    throw error
                }
            }
            for (i, waiter) in batch.enumerated() {
                waiter.result = result.map { $0 + UInt64(i) }
                waiter.ready.signal()
            }
        }
    }
}

/// An oracle of timestamps.
public protocol TimestampSource: AnyObject {
    /// The first of `count` consecutive fresh timestamps.
    ///
    /// - Throws: ``KVClientError``.
    func timestamps(count: Int) throws(KVClientError) -> UInt64
}

extension SchedulerClient: TimestampSource {}

extension NodeClient: TimestampSource {
    /// `TSO n` on a standalone node: the first of `count` fresh timestamps.
    public func timestamps(count: Int) throws(KVClientError) -> UInt64 {
        guard case .ok(let words) = try call(.scheduler(.timestamps(count: count))),
            let first = words.first(where: { $0.hasPrefix("first=") }).flatMap({ UInt64($0.dropFirst(6)) })
        else { throw KVClientError(.badResponse, "unexpected answer to TSO") }
        return first
    }
}
