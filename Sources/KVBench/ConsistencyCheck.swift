import Foundation
import KVClient
import KVProtocol
import Linearizability

/// `kvbench check`: concurrent clients read, write and delete a few keys for a bounded time, each recording
/// when every operation was invoked and completed and what it returned; the history is then checked for
/// linearizability (a per-key register, Wing–Gong search with memoization; see the `Linearizability` target).
///
/// Values are unique (`c<client>-<n>`), so a read names the write it saw. A write or delete whose answer was
/// lost (outcome unknown) stays in the history as possibly applied at any later time; an operation refused
/// for certain (`NOT_LEADER` before proposing, unreachable before sending) is left out; a read that failed
/// constrains nothing and is left out too.
public struct ConsistencyCheck: Sendable {
    /// What to run.
    public struct Configuration: Sendable {
        /// Concurrent clients, each with its own connection.
        public var clients = 8
        /// Keys shared by all clients (few keys: more contention, more to check).
        public var keys = 5
        /// Seconds of load.
        public var duration = 10.0
        /// Fraction of reads; the rest are writes and deletes.
        public var readRatio = 0.5
        /// Fraction of deletes.
        public var deleteRatio = 0.1
        /// Seed for the operation choices.
        public var seed: UInt64 = 1
        /// The search budget of the checker.
        public var maxExploredStates = 2_000_000

        /// Defaults: 8 clients, 5 keys, 10 s, half reads, a tenth deletes.
        public init() {}
    }

    /// Counts and the verdict.
    public struct Report: Sendable {
        /// The recorded history.
        public var history: History
        /// Operations that completed (acknowledged reads, writes, deletes).
        public var completed: Int
        /// Writes and deletes whose outcome is unknown.
        public var unknown: Int
        /// Operations that failed for certain and were left out.
        public var failed: Int
        /// The checker's verdict.
        public var result: CheckResult
    }

    /// The configuration.
    public let configuration: Configuration
    private let makeClient: @Sendable () throws -> any KeyValueClient

    /// Creates a check.
    ///
    /// - Parameters:
    ///   - configuration: Clients, keys, duration, mix.
    ///   - makeClient: Opens one client (a routed ``ClusterClient`` or one node's ``NodeClient``).
    public init(configuration: Configuration, makeClient: @escaping @Sendable () throws -> any KeyValueClient) {
        self.configuration = configuration
        self.makeClient = makeClient
    }

    /// Runs the clients, then checks the history.
    public func run() -> Report {
        let lock = NSLock()
        nonisolated(unsafe) var operations: [StoreOperation] = []
        nonisolated(unsafe) var failed = 0
        let start = MonotonicClock.now()
        let end = start + UInt64(configuration.duration * 1e9)
        let group = DispatchGroup()
        let configuration = self.configuration
        let makeClient = self.makeClient
        for client in 0..<configuration.clients {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                var random = SeededGenerator(seed: configuration.seed, stream: client)
                var recorded: [StoreOperation] = []
                var refused = 0
                guard var store = try? makeClient() else { return }
                // A client whose write's outcome is unknown goes on under a new label with a new connection:
                // the unknown operation stays pending forever, and each label issues one operation at a time.
                var label = client
                var n = 0
                while MonotonicClock.now() < end {
                    let key = "check-\(Int.random(in: 0..<configuration.keys, using: &random))"
                    let choice = random.nextUnitDouble()
                    let invoked = MonotonicClock.now()
                    if choice < configuration.readRatio {
                        do {
                            let value = try store.get(Array(key.utf8))
                            recorded.append(.read(
                                client: label, key: ByteString(key), observed: value.map(ByteString.init),
                                invokedAt: invoked, completedAt: MonotonicClock.now()))
                        } catch {
                            refused += 1  // a failed read constrains nothing
                        }
                    } else {
                        let isDelete = choice < configuration.readRatio + configuration.deleteRatio
                        n += 1
                        let value = "c\(client)-\(n)"
                        do throws(KVClientError) {
                            if isDelete { try store.delete(Array(key.utf8)) } else { try store.put(Array(key.utf8), Array(value.utf8)) }
                            let completed = MonotonicClock.now()
                            recorded.append(isDelete
                                ? .delete(client: label, key: ByteString(key), invokedAt: invoked, completedAt: completed)
                                : .write(client: label, key: ByteString(key), value: ByteString(value), invokedAt: invoked, completedAt: completed))
                        } catch {
                            if Self.mayHaveApplied(error) {
                                recorded.append(isDelete
                                    ? .delete(client: label, key: ByteString(key), invokedAt: invoked, completedAt: nil)
                                    : .write(client: label, key: ByteString(key), value: ByteString(value), invokedAt: invoked, completedAt: nil))
                                label += configuration.clients
                                if let fresh = try? makeClient() { store = fresh }
                            }
                            refused += 1
                            usleep(10_000)
                        }
                    }
                }
                lock.withLock {
                    operations.append(contentsOf: recorded)
                    failed += refused
                }
            }
        }
        group.wait()
        let history = lock.withLock { History(operations.sorted { $0.invokeTime < $1.invokeTime }) }
        let unknown = history.operations.filter { $0.completeTime == nil }.count
        let checker = LinearizabilityChecker(maxExploredStates: configuration.maxExploredStates)
        return Report(
            history: history, completed: history.operations.count - unknown, unknown: unknown,
            failed: lock.withLock { failed }, result: checker.check(history))
    }

    /// Whether a failed write may still have been applied: the answer was lost, not a refusal.
    static func mayHaveApplied(_ error: KVClientError) -> Bool {
        switch error.kind {
        case .outcomeUnknown, .timeout, .connectionClosed, .badResponse: true
        case .server(let code): code == .outcomeUnknown || code == .storage || code == .internalError
        case .unreachable, .invalidAddress: false
        }
    }
}
