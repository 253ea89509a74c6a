#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension UnsafeRawBufferPointer {
    /// The index of the first `byte` at or after `start`, or nil. `memchr`: the generic `firstIndex(of:)`
    /// goes byte by byte, which showed on long `RAFT` lines (server) and on every answer (client).
    public func firstIndex(of byte: UInt8, from start: Int) -> Int? {
        guard start < count, let base = baseAddress, let found = memchr(base + start, Int32(byte), count - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(found))
    }
}
