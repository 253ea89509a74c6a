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
/// destination store, reused for every region; whatever queued while a batch was being written goes as the
/// next batch (`RAFT` lines with `reply=0`, chunked when large; nothing is read back).
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

    /// Whether any fault is injected (then every batch goes through a sender thread, which applies them).
    fileprivate var hasFaults: Bool {
        faults.withLock { $0 != FaultInjection() }
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

/// The queue, connection and thread sending to one store.
///
/// A batch handed over while the connection is idle is written at once by the caller (the store loop) without
/// waiting for room in the socket; only what the socket does not take, batches that arrive meanwhile,
/// snapshots, connecting and injected faults are left to the sender thread. Waking a thread per batch cost
/// more than the write itself.
private final class StoreSender: @unchecked Sendable {
    let storeID: UInt64
    unowned let transport: RaftTransport
    /// Guards the fields below; its value is 1 while the sender thread has work.
    private let lock = ConditionLock(value: 0)
    private var queue: [RaftEnvelope] = []
    /// The end of a batch the caller began writing and the socket did not take: it goes before anything else.
    private var unsent: [UInt8] = []
    /// Whether a thread is writing on `connection` (only that thread then touches it).
    private var writing = false
    /// Set when the caller's write found the connection broken: the thread waits a little before it connects
    /// again, so a destination that refuses every batch (by closing) is not reconnected to once per batch.
    private var pauseBeforeConnecting = false
    private var stopping = false
    private var connection: LineConnection?
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private var generator = SystemRandomNumberGenerator()

    /// Past this many queued messages the oldest are dropped: the destination is slow or gone, and Raft
    /// resends what matters.
    static let maxQueued = 16_384

    init(storeID: UInt64, transport: RaftTransport) {
        self.storeID = storeID
        self.transport = transport
        thread.start()
        thread.submit { [self] _ in
            nameCurrentThread("raft-send-\(storeID)")
            run()
        }
    }

    func enqueue(_ envelopes: [RaftEnvelope]) {
        lock.lock()
        if queue.isEmpty, unsent.isEmpty, !writing, !stopping, let connection,
            !envelopes.contains(where: { $0.message.kind == .snapshot }), !transport.hasFaults
        {
            writing = true
            lock.unlock()
            writeAtOnce(envelopes, on: connection)
            return
        }
        queue.append(contentsOf: envelopes)
        var dropped: [RaftEnvelope] = []
        if queue.count > Self.maxQueued {
            dropped = Array(queue.prefix(queue.count - Self.maxQueued))
            queue.removeFirst(queue.count - Self.maxQueued)
        }
        lock.unlock(withValue: 1)
        if !dropped.isEmpty { transport.reportSnapshots(in: dropped, failed: true) }
    }

    /// The caller's write of a batch (no snapshot in it): what the socket does not take is left to the thread.
    private func writeAtOnce(_ envelopes: [RaftEnvelope], on connection: LineConnection) {
        let bytes = encode(envelopes)
        let taken: Int
        do {
            taken = try connection.stream.writeWithoutWaiting(bytes)
        } catch {
            lock.lock()
            writing = false
            self.connection = nil
            pauseBeforeConnecting = true
            if queue.isEmpty { lock.unlock() } else { lock.unlock(withValue: 1) }
            transport.reportUnreachable(storeID)
            return
        }
        lock.lock()
        writing = false
        if taken < bytes.count { unsent = Array(bytes[taken...]) }
        if queue.isEmpty && unsent.isEmpty {
            lock.unlock()  // not `unlock(withValue:)`, which wakes the sleeping thread for nothing
        } else {
            lock.unlock(withValue: 1)
        }
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
                connection = nil  // under the lock: the caller may be between writes
                lock.unlock()
                return
            }
            if writing {
                // The caller is writing; it hands back (and sets the value again) when done.
                lock.unlock(withValue: 0)
                continue
            }
            var batch = queue
            queue = []
            let rest = unsent
            unsent = []
            writing = true
            let pause = pauseBeforeConnecting
            pauseBeforeConnecting = false
            lock.unlock(withValue: 0)
            if pause { usleep(100_000) }
            let delivered = send(rest, then: &batch)
            lock.lock()
            writing = false
            if !delivered { connection = nil }
            // Stays 1 once stopping: `stop()` set it while this thread was writing, and waits for it to see that.
            lock.unlock(withValue: stopping || !queue.isEmpty || !unsent.isEmpty ? 1 : 0)
            if !delivered {
                transport.reportUnreachable(storeID)
                usleep(100_000)  // a destination that is down is not hammered
            }
        }
    }

    /// The thread's write: the end of a batch the caller began, then the queued batch (faults applied);
    /// false when the connection failed. Reports what happened to snapshots in the batch.
    private func send(_ rest: [UInt8], then batch: inout [RaftEnvelope]) -> Bool {
        if !rest.isEmpty {
            guard let connection, (try? connection.send(rest)) != nil else {
                transport.reportSnapshots(in: batch, failed: true)
                return false
            }
        }
        let faults = transport.faults.withLock { $0 }
        if faults.isolatedStores.contains(storeID) {
            transport.reportSnapshots(in: batch, failed: true)
            return true
        }
        if faults.dropRate > 0 {
            batch = batch.filter { _ in Double.random(in: 0..<1, using: &generator) >= faults.dropRate }
        }
        if faults.maxDelayMilliseconds > 0 {
            usleep(UInt32(UInt64.random(in: 0...faults.maxDelayMilliseconds, using: &generator) * 1000))
        }
        guard !batch.isEmpty else { return true }
        let delivered = deliver(batch)
        transport.reportSnapshots(in: batch, failed: !delivered)
        return delivered
    }

    /// Sends one batch on the connection, opening it if need be; true once the bytes are with the kernel.
    /// Nothing is read back: a receiver that refuses a chunk closes the connection, and a later write fails.
    private func deliver(_ batch: [RaftEnvelope]) -> Bool {
        if let open = connection, open.stream.isClosedByPeer {
            // The destination closed it (it refused a chunk, or restarted): this batch is lost, as Raft allows.
            connection = nil
            return false
        }
        if connection == nil {
            guard let text = transport.address(of: storeID), let address = try? NodeAddress(parsing: text),
                let opened = try? LineConnection(to: address, timeout: 5)
            else { return false }
            connection = opened
        }
        guard let connection else { return false }
        return (try? connection.send(encode(batch))) != nil
    }

    /// A batch as `RAFT` lines asking for no answer (waiting for one cost a wake-up on each side per batch
    /// and taught nothing Raft needs), chunked when large.
    private func encode(_ batch: [RaftEnvelope]) -> [UInt8] {
        let bytes = RaftEnvelope.encode(batch)
        var lines: [UInt8] = []
        var offset = 0
        var sequence: UInt64 = 0
        repeat {
            let end = min(bytes.count, offset + RaftTransferChunk.maxPayload)
            let chunk = RaftTransferChunk(
                fromStore: transport.localStoreID, sequence: sequence, isLast: end == bytes.count,
                payload: Array(bytes[offset..<end]), fromAddress: sequence == 0 ? transport.localAddress : "",
                clusterID: transport.clusterID, expectsReply: false)
            lines.append(contentsOf: Request.raft(chunk).encoded)
            offset = end
            sequence += 1
        } while offset < bytes.count
        return lines
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
