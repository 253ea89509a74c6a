#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating-system thread running one closure, for client loops that block on sockets.
///
/// Blocking I/O on Swift concurrency's cooperative pool (two threads on a two-core machine) would stall it,
/// and Dispatch's `concurrentPerform` caps the width at the core count, so each benchmark client gets a thread
/// of its own.
final class NativeThread {
    private var handle: pthread_t

    /// Starts a thread running `body`.
    ///
    /// - Parameter body: The thread's work.
    init(_ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        #if canImport(Glibc)
        var thread = pthread_t()
        #else
        var thread: pthread_t?
        #endif
        let rc = pthread_create(&thread, nil, { raw in
            #if canImport(Glibc)
            let body = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            #else
            let body = Unmanaged<ThreadBody>.fromOpaque(raw).takeRetainedValue()
            #endif
            body.run()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed with \(rc)")
        #if canImport(Glibc)
        handle = thread
        #else
        handle = thread!
        #endif
    }

    /// Waits for the thread to finish.
    func join() {
        pthread_join(handle, nil)
    }
}

/// The closure a ``NativeThread`` runs, boxed to cross `pthread_create`.
private final class ThreadBody: Sendable {
    let run: @Sendable () -> Void

    init(_ run: @escaping @Sendable () -> Void) { self.run = run }
}
