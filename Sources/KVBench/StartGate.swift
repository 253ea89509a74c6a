#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Holds client threads until every one has connected, so connection set-up stays out of the timed window
/// and all clients start together.
final class StartGate {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let expected: Int
    private var arrived = 0
    private var failures: [DriverError] = []
    private var decision: Decision?

    private enum Decision {
        case start(UInt64)
        case abort
    }

    /// A gate for `expected` threads.
    init(expected: Int) {
        self.expected = expected
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Called by a client thread once connected (or not): reports, then waits for the start.
    ///
    /// - Parameter failure: The connection error, if connecting failed.
    /// - Returns: The start time (monotonic nanoseconds), or `nil` when the run was called off.
    func arrive(failure: DriverError?) -> UInt64? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        arrived += 1
        if let failure { failures.append(failure) }
        pthread_cond_broadcast(condition)
        while decision == nil { pthread_cond_wait(condition, mutex) }
        if case .start(let time) = decision { return time }
        return nil
    }

    /// Called by the coordinator: waits until every thread arrived.
    ///
    /// - Returns: The connection failures (empty when all connected).
    func waitForAll() -> [DriverError] {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while arrived < expected { pthread_cond_wait(condition, mutex) }
        return failures
    }

    /// Releases the threads to start, with the common start time.
    func open(at time: UInt64) {
        decide(.start(time))
    }

    /// Releases the threads to give up.
    func abort() {
        decide(.abort)
    }

    private func decide(_ value: Decision) {
        pthread_mutex_lock(mutex)
        decision = value
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }
}

// MARK: - Sendable

// All state is guarded by the mutex.
extension StartGate: @unchecked Sendable {}
