import Foundation

/// Runs `body` on a thread of its own and waits for it without holding one of Swift concurrency's threads.
///
/// Swift Testing runs tests on the cooperative pool, one thread per core: a test that computes or blocks for a
/// minute (a simulator sweep, thousands of simulated crashes) would hold one of only two threads here, and
/// short tests queued behind such tests can run out their own time limits before they start. Heavy bodies
/// run here instead and return what went wrong; the test records it (`#expect` needs the test's task).
///
/// - Parameter body: The work; what it returns is returned.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.stackSize = 16 << 20
        thread.start()
    }
}
