import KVClient
import KVProtocol
import NIOConcurrencyHelpers
import NIOPosix
import Raft
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Sends Raft messages to other stores over the line protocol: one connection and one sender thread per
/// destination store, reused for every region; whatever queued while a batch was on the wire goes as the next
/// batch (one `RAFT` round trip, chunked when large).
///
/// Raft tolerates lost messages, so the transport never retries: a batch that cannot be delivered (store
/// unreachable, connection broken) is dropped, the store loop hears `unreachable`, and a snapshot that did not
/// arrive is reported failed so the leader sends another later.
public final class RaftTransport: Sendable {
    /// Called when a destination cannot be reached (the loop tells Raft, which stops pipelining to it).
    typealias UnreachableHandler = @Sendable (_ storeID: UInt64) -> Void
    /// Called once a snapshot message was delivered or lost.
    typealias SnapshotHandler = @Sendable (_ regionID: UInt64, _ toPeer: UInt64, _ failed: Bool) -> Void

    /// This store.
    public let localStoreID: UInt64
    /// This store's address, sent on the first chunk of every batch.
    public let localAddress: String
    /// This store's cluster, sent with every chunk.
    public let clusterID: UInt64
    private let resolveAddress: @Sendable (UInt64) -> String?
    private let senders = Mutex<[UInt64: StoreSender]>([:])
    /// Set once. A class, not a tuple of closures: reading closures out of a `Mutex`'s generic `withLock`
    /// wrapped the stored closure in one more reabstraction thunk on every call (Swift 6.3, -O), so after
    /// ~100 000 batches the first snapshot report recursed through them and overflowed the stack.
    private let handlers = Mutex<TransportHandlers?>(nil)
    /// Faults injected by tests.
    let faults = Mutex(FaultInjection())
    private let stopped = Atomic<Bool>(false)

    /// Creates a transport.
    ///
    /// - Parameters:
    ///   - localStoreID: This store's id (sent with every batch).
    ///   - resolveAddress: The address of a store (`HOST:PORT` or a socket path), nil while unknown; called
    ///     from sender threads, so it may block (e.g. ask the scheduler).
    public init(
        localStoreID: UInt64, clusterID: UInt64 = 0, localAddress: String = "",
        resolveAddress: @escaping @Sendable (UInt64) -> String?
    ) {
        self.localStoreID = localStoreID
        self.clusterID = clusterID
        self.localAddress = localAddress
        self.resolveAddress = resolveAddress
    }

    func setHandlers(unreachable: @escaping UnreachableHandler, snapshot: @escaping SnapshotHandler) {
        let installed = TransportHandlers(unreachable: unreachable, snapshot: snapshot)
        handlers.withLock { $0 = installed }
    }

    /// Queues envelopes for their stores.
    func send(_ envelopes: [RaftEnvelope]) {
        guard !stopped.load(ordering: .relaxed) else { return }
        var byStore: [UInt64: [RaftEnvelope]] = [:]
        for envelope in envelopes { byStore[envelope.to.storeID, default: []].append(envelope) }
        for (store, batch) in byStore {
            let sender = senders.withLock { senders in
                if let sender = senders[store] { return sender }
                let sender = StoreSender(storeID: store, transport: self)
                senders[store] = sender
                return sender
            }
            sender.enqueue(batch)
        }
    }

    /// Whether incoming messages from `storeID` are to be ignored (an injected partition).
    func isCutOff(from storeID: UInt64) -> Bool {
        faults.withLock { $0.isolatedStores.contains(storeID) }
    }

    /// Stops every sender thread; queued messages are dropped.
    public func shutdown() {
        stopped.store(true, ordering: .relaxed)
        let all = senders.withLock { senders -> [StoreSender] in
            defer { senders = [:] }
            return Array(senders.values)
        }
        for sender in all { sender.stop() }
    }

    fileprivate func address(of store: UInt64) -> String? { resolveAddress(store) }

    fileprivate func reportUnreachable(_ store: UInt64) {
        handlers.withLock { $0 }?.unreachable(store)
    }

    fileprivate func reportSnapshots(in envelopes: [RaftEnvelope], failed: Bool) {
        guard envelopes.contains(where: { $0.message.kind == .snapshot }), let installed = handlers.withLock({ $0 }) else { return }
        for envelope in envelopes where envelope.message.kind == .snapshot {
            installed.snapshot(envelope.region.id, envelope.to.id, failed)
        }
    }
}

/// The queue and thread sending to one store.
private final class StoreSender: @unchecked Sendable {
    let storeID: UInt64
    unowned let transport: RaftTransport
    private let lock = ConditionLock(value: 0)
    private var queue: [RaftEnvelope] = []
    private var stopping = false
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private var connection: LineConnection?
    private var generator = SystemRandomNumberGenerator()

    /// Past this many queued messages the oldest are dropped: the destination is slow or gone, and Raft
    /// resends what matters.
    static let maxQueued = 16_384

    init(storeID: UInt64, transport: RaftTransport) {
        self.storeID = storeID
        self.transport = transport
        thread.start()
        thread.submit { [self] _ in run() }
    }

    func enqueue(_ envelopes: [RaftEnvelope]) {
        lock.lock()
        queue.append(contentsOf: envelopes)
        var dropped: [RaftEnvelope] = []
        if queue.count > Self.maxQueued {
            dropped = Array(queue.prefix(queue.count - Self.maxQueued))
            queue.removeFirst(queue.count - Self.maxQueued)
        }
        lock.unlock(withValue: 1)
        if !dropped.isEmpty { transport.reportSnapshots(in: dropped, failed: true) }
    }

    func stop() {
        lock.lock()
        stopping = true
        lock.unlock(withValue: 1)
        try? thread.syncShutdownGracefully()
    }

    private func run() {
        while true {
            lock.lock(whenValue: 1)
            if stopping {
                lock.unlock()
                connection = nil
                return
            }
            var batch = queue
            queue = []
            lock.unlock(withValue: 0)
            let faults = transport.faults.withLock { $0 }
            if faults.isolatedStores.contains(storeID) {
                transport.reportSnapshots(in: batch, failed: true)
                continue
            }
            if faults.dropRate > 0 {
                batch = batch.filter { _ in Double.random(in: 0..<1, using: &generator) >= faults.dropRate }
            }
            if faults.maxDelayMilliseconds > 0 {
                usleep(UInt32(UInt64.random(in: 0...faults.maxDelayMilliseconds, using: &generator) * 1000))
            }
            guard !batch.isEmpty else { continue }
            if deliver(batch) {
                transport.reportSnapshots(in: batch, failed: false)
            } else {
                connection = nil
                transport.reportSnapshots(in: batch, failed: true)
                transport.reportUnreachable(storeID)
                usleep(100_000)  // a destination that is down is not hammered
            }
        }
    }

    /// Sends one batch, in chunks; true once the destination acknowledged all of it.
    private func deliver(_ batch: [RaftEnvelope]) -> Bool {
        if connection == nil {
            guard let text = transport.address(of: storeID), let address = try? NodeAddress(parsing: text),
                let opened = try? LineConnection(to: address, timeout: 5)
            else { return false }
            connection = opened
        }
        guard let connection else { return false }
        let bytes = RaftEnvelope.encode(batch)
        var offset = 0
        var sequence: UInt64 = 0
        repeat {
            let end = min(bytes.count, offset + RaftTransferChunk.maxPayload)
            let chunk = RaftTransferChunk(
                fromStore: transport.localStoreID, sequence: sequence, isLast: end == bytes.count,
                payload: Array(bytes[offset..<end]), fromAddress: sequence == 0 ? transport.localAddress : "",
                clusterID: transport.clusterID)
            guard case .ok = try? connection.call(.raft(chunk)) else { return false }
            offset = end
            sequence += 1
        } while offset < bytes.count
        return true
    }
}

/// The store loop's callbacks, set once.
final class TransportHandlers: Sendable {
    let unreachable: RaftTransport.UnreachableHandler
    let snapshot: RaftTransport.SnapshotHandler

    init(unreachable: @escaping RaftTransport.UnreachableHandler, snapshot: @escaping RaftTransport.SnapshotHandler) {
        self.unreachable = unreachable
        self.snapshot = snapshot
    }
}
