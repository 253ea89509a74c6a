#if canImport(Glibc)
import Glibc
#endif

/// Names the calling thread, so `top -H`, `perf` and `/proc/PID/task/*/comm` tell a node's threads apart
/// (every `NIOThreadPool` thread is otherwise `TP-#0`).
///
/// Writes `/proc/thread-self/comm` (Glibc's `pthread_setname_np` is not visible to Swift without
/// `_GNU_SOURCE`). Linux keeps at most 15 bytes, so a longer name is cut to fit; where the file cannot be
/// written the thread keeps its old name, which costs nothing but the label.
func nameCurrentThread(_ name: String) {
    #if os(Linux)
    let descriptor = open("/proc/thread-self/comm", O_WRONLY)
    guard descriptor >= 0 else { return }
    let fitted = Array(name.utf8.prefix(15))
    _ = fitted.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    close(descriptor)
    #endif
}
