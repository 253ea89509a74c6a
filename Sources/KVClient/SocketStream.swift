#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

import KVProtocol

/// A blocking byte stream over a connected socket with a read buffer: the one socket layer under
/// ``LineConnection`` and under kvbench's drivers of other stores (which parse RESP or HTTP from ``unread``).
///
/// Every wait is bounded by the timeout through `SO_RCVTIMEO` and `SO_SNDTIMEO`: one system call per send or
/// receive, where a `poll` before each would double them. One thread may ``write(_:)`` while another reads
/// (``fill()``, ``consume(_:)``): writing touches only the descriptor, reading only the buffer.
public final class SocketStream {
    /// The address connected to.
    public let address: NodeAddress
    /// The bound on each wait, in seconds; `nil` waits forever.
    public let timeout: Double?

    private let descriptor: Int32
    /// Received bytes in `start..<end`; `recv` writes straight after them (the array is allocated once and
    /// doubled when a line outgrows it: growing it by zeros per read, or copying each read in from a second
    /// array, cost more than the read itself).
    private var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var start = 0
    private var end = 0

    /// Connects.
    ///
    /// - Parameters:
    ///   - address: TCP or Unix socket address.
    ///   - timeout: The bound on the connect and on each later wait, in seconds, or `nil`.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/unreachable``, ``KVClientError/Kind/timeout`` or
    ///   ``KVClientError/Kind/invalidAddress``.
    public init(address: NodeAddress, timeout: Double?) throws(KVClientError) {
        self.address = address
        self.timeout = timeout
        descriptor = try SocketConnector.connect(to: address, timeout: timeout)
        if let timeout {
            var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1e6))
            setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit {
        close(descriptor)
    }

    /// The bytes received and not yet consumed. Use it as a temporary (pass it straight to a parser): a slice
    /// kept alive across ``consume(_:)`` or ``fill()`` makes the buffer copy itself.
    public var unread: ArraySlice<UInt8> { buffer[start..<end] }

    /// How many bytes are unread.
    public var unreadCount: Int { end - start }

    /// The distance from the first unread byte to the first `byte` after it, or `nil`.
    public func offset(of byte: UInt8) -> Int? {
        buffer.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[..<end]).firstIndex(of: byte, from: start) }.map { $0 - start }
    }

    /// Marks the first `count` unread bytes as consumed.
    public func consume(_ count: Int) {
        start += count
        if start == end {
            start = 0
            end = 0
        }
    }

    /// Sends all of `bytes`.
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed`` or
    ///   ``KVClientError/Kind/timeout``.
    public func write(_ bytes: [UInt8]) throws(KVClientError) {
        // The send timeout (`SO_SNDTIMEO`) ran out when the socket stopped taking bytes.
        if try sendUntilFull(bytes, flags: MSG_NOSIGNAL) < bytes.count {
            throw KVClientError(.timeout, "timed out after \(timeout ?? 0) s sending to \(address)")
        }
    }

    /// Sends what the socket takes of `bytes` without waiting for room: all of it unless the socket's buffer
    /// is full (the peer reads slowly or not at all).
    ///
    /// - Returns: How many bytes were taken, from 0 to `bytes.count`.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed``.
    public func writeWithoutWaiting(_ bytes: [UInt8]) throws(KVClientError) -> Int {
        try sendUntilFull(bytes, flags: MSG_NOSIGNAL | MSG_DONTWAIT)
    }

    /// Sends `bytes` until done or the socket takes no more (`EAGAIN`); returns how many it took.
    private func sendUntilFull(_ bytes: [UInt8], flags: Int) throws(KVClientError) -> Int {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { raw in
                send(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(flags))
            }
            if sent < 0 {
                let failure = errno
                if failure == EINTR { continue }
                if failure == EAGAIN || failure == EWOULDBLOCK { return offset }
                throw KVClientError(
                    .connectionClosed, "lost the connection to \(address): \(String(cString: strerror(failure)))")
            }
            offset += sent
        }
        return offset
    }

    /// Whether the other side closed the connection (or sent something nobody asked for) while it sat idle:
    /// checked without blocking before a pooled connection is reused, so a request is never written into a
    /// connection that is already dead — where its fate would look unknown.
    public var isClosedByPeer: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&poller, 1, 0)
        return ready != 0
    }

    /// Tells the peer that nothing more will be sent (half-close); reading goes on.
    public func finishWriting() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Waits for more bytes and appends them to ``unread``.
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed`` or
    ///   ``KVClientError/Kind/timeout``.
    public func fill() throws(KVClientError) {
        if start > 0 && (start >= end / 2 || end == buffer.count) {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        if end == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
        let received = buffer.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress! + end, raw.count - end, 0) }
        let failure = errno
        if received == 0 { throw KVClientError(.connectionClosed, "\(address) closed the connection") }
        if received < 0 {
            if failure == EINTR { return }
            if failure == EAGAIN || failure == EWOULDBLOCK {
                throw KVClientError(
                    .timeout, "timed out after \(timeout ?? 0) s waiting for an answer from \(address)")
            }
            throw KVClientError(
                .connectionClosed, "lost the connection to \(address): \(String(cString: strerror(failure)))")
        }
        end += received
    }
}

// MARK: - Sendable

// One writer thread and one reader thread may share a stream (see the type's documentation).
extension SocketStream: @unchecked Sendable {}
