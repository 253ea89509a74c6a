import KVClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking byte stream over a connected socket with a read buffer, for the drivers of other stores
/// (RESP and HTTP framing are parsed from ``unread``).
///
/// Every wait is bounded by the timeout (`SO_RCVTIMEO`, `SO_SNDTIMEO`); a timeout or a broken connection
/// surfaces as a ``DriverError``.
final class SocketStream {
    /// The address connected to.
    let address: NodeAddress
    /// The bound on each wait, in seconds.
    let timeout: Double

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where `recv` writes, allocated once: growing `buffer` by 64 KiB of zeros per read costs more than the
    /// read itself.
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)

    /// Connects.
    ///
    /// - Throws: ``DriverError`` of kind unreachable or timeout.
    init(address: NodeAddress, timeout: Double) throws(DriverError) {
        self.address = address
        self.timeout = timeout
        do {
            descriptor = try SocketConnector.connect(to: address, timeout: timeout)
        } catch {
            throw KVNodeDriver.driverError(error)
        }
        // Blocking calls bounded by socket timeouts: one system call per send or receive, where a poll before
        // each would double the client's system calls (and its CPU) per operation.
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
    }

    /// The bytes received and not yet consumed. Use it as a temporary (pass it straight to a parser): a slice
    /// kept alive across ``consume(_:)`` or ``fill()`` makes the buffer copy itself.
    var unread: ArraySlice<UInt8> { buffer[start...] }

    /// How many bytes are unread.
    var unreadCount: Int { buffer.count - start }

    /// The distance from the first unread byte to the first `byte` after it, or `nil`.
    func offset(of byte: UInt8) -> Int? {
        buffer[start...].firstIndex(of: byte).map { $0 - start }
    }

    /// Marks the first `count` unread bytes as consumed.
    func consume(_ count: Int) {
        start += count
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    /// Sends all of `bytes`.
    ///
    /// - Throws: ``DriverError`` of kind connectionClosed or timeout.
    func write(_ bytes: [UInt8]) throws(DriverError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                let failure = errno
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK {
                    throw DriverError(.timeout, "timed out after \(timeout) s sending to \(address)")
                }
                throw DriverError(.connectionClosed, "lost the connection to \(address): \(String(cString: strerror(failure)))")
            }
            offset += sent
        }
    }

    /// Waits for more bytes and appends them to ``unread``.
    ///
    /// - Throws: ``DriverError`` of kind connectionClosed or timeout.
    func fill() throws(DriverError) {
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeFirst(start)
            start = 0
        }
        let received = chunk.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress!, raw.count, 0) }
        let failure = errno
        if received == 0 { throw DriverError(.connectionClosed, "\(address) closed the connection") }
        if received < 0 {
            if failure == EINTR { return }
            if failure == EAGAIN || failure == EWOULDBLOCK {
                throw DriverError(.timeout, "timed out after \(timeout) s waiting for an answer from \(address)")
            }
            throw DriverError(.connectionClosed, "lost the connection to \(address): \(String(cString: strerror(failure)))")
        }
        buffer.append(contentsOf: chunk[..<received])
    }
}
