#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutual-exclusion lock over `pthread_mutex_t`, for the little state that client threads share.
///
/// The `Synchronization` module's `Mutex` needs macOS 15 while the package supports macOS 14, and the runner
/// uses plain threads rather than Swift concurrency (blocking sockets, one thread per connection), so a small
/// lock of its own is the simplest correct choice.
public final class BenchLock {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// Creates an unlocked lock.
    public init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` while holding the lock.
    ///
    /// - Parameter body: The critical section; it must not take this lock again.
    /// - Returns: What `body` returns.
    public func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}

// MARK: - Sendable

// The mutex is the synchronisation: every access to guarded state goes through `withLock`.
extension BenchLock: @unchecked Sendable {}
