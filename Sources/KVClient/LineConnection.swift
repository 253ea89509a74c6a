import KVProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking connection to a node that sends request lines and reads answer lines.
///
/// One thread may send while another reads (the way `kvctl batch` pipelines), but two threads must not both
/// send or both read. Every wait is bounded by the timeout given at creation.
public final class LineConnection {
    /// The address connected to.
    public let address: NodeAddress
    /// How long any one connect, send or read may wait, in seconds; `nil` waits forever.
    public let timeout: Double?

    private let descriptor: Int32
    private var buffer: [UInt8] = []
    /// Receives land here first; allocated once, so a read costs no allocation or zeroing.
    private var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    private var bufferStart = 0
    private var assembler = ResponseAssembler()

    /// The longest answer line accepted (a full `VALUE` of the largest value, escaped, and some).
    static let maxLineLength = ProtocolLimits.maxLineLength + 64

    /// Connects.
    ///
    /// - Parameters:
    ///   - address: The node.
    ///   - timeout: The bound on each wait, in seconds, or `nil`.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/unreachable`` or ``KVClientError/Kind/timeout``.
    public init(to address: NodeAddress, timeout: Double? = 10) throws(KVClientError) {
        self.address = address
        self.timeout = timeout
        self.descriptor = try SocketConnector.connect(to: address, timeout: timeout)
    }

    deinit {
        close(descriptor)
    }

    /// Sends bytes (one or more complete request lines).
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed`` or
    ///   ``KVClientError/Kind/timeout``.
    public func send(_ bytes: [UInt8]) throws(KVClientError) {
        var offset = 0
        while offset < bytes.count {
            try wait(for: Int16(POLLOUT), doing: "sending")
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw KVClientError(.connectionClosed, "lost the connection to \(address): \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }

    /// Sends one request.
    public func send(_ request: Request) throws(KVClientError) {
        try send(request.encoded)
    }

    /// Tells the node that no more requests follow; it answers what it has, then closes.
    public func finishSending() {
        shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Reads the next complete answer (all lines of a row answer).
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed``, ``KVClientError/Kind/timeout``
    ///   or ``KVClientError/Kind/badResponse``. An `ERR` answer is returned, not thrown.
    public func readResponse() throws(KVClientError) -> Response {
        while true {
            let line = try readLine()
            do {
                if let response = try assembler.feed(line[...]) { return response }
            } catch {
                throw KVClientError(.badResponse, "bad answer from \(address): \(error.message)")
            }
        }
    }

    /// Sends a request and reads its answer.
    public func call(_ request: Request) throws(KVClientError) -> Response {
        try send(request)
        return try readResponse()
    }

    /// Reads the next line, without its LF (or CR LF).
    ///
    /// - Throws: As ``readResponse()``.
    public func readLine() throws(KVClientError) -> [UInt8] {
        var searchFrom = bufferStart
        while true {
            if let newline = buffer[searchFrom...].firstIndex(of: 0x0A) {
                var end = newline
                if end > bufferStart && buffer[end - 1] == 0x0D { end -= 1 }
                let line = Array(buffer[bufferStart..<end])
                bufferStart = newline + 1
                if bufferStart == buffer.count {
                    buffer.removeAll(keepingCapacity: true)
                    bufferStart = 0
                }
                return line
            }
            if buffer.count - bufferStart > Self.maxLineLength {
                throw KVClientError(.badResponse, "answer line from \(address) is longer than \(Self.maxLineLength) bytes")
            }
            if bufferStart > 0 && bufferStart > buffer.count / 2 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            searchFrom = buffer.count
            try fill()
        }
    }

    private func fill() throws(KVClientError) {
        try wait(for: Int16(POLLIN), doing: "waiting for an answer")
        let received = chunk.withUnsafeMutableBytes { raw in recv(descriptor, raw.baseAddress!, raw.count, 0) }
        if received > 0 {
            buffer.append(contentsOf: chunk[..<received])
            return
        }
        if received == 0 {
            throw KVClientError(.connectionClosed, "\(address) closed the connection")
        }
        if errno == EINTR || errno == EAGAIN { return }
        throw KVClientError(.connectionClosed, "lost the connection to \(address): \(String(cString: strerror(errno)))")
    }

    private func wait(for events: Int16, doing what: String) throws(KVClientError) {
        var pollDescriptor = pollfd(fd: descriptor, events: events, revents: 0)
        let milliseconds = timeout.map { Int32(min($0 * 1000, Double(Int32.max))) } ?? -1
        while true {
            let ready = poll(&pollDescriptor, 1, milliseconds)
            if ready > 0 { return }
            if ready == 0 {
                throw KVClientError(.timeout, "timed out after \(timeout ?? 0) s \(what) (\(address))")
            }
            if errno != EINTR {
                throw KVClientError(.connectionClosed, "poll failed: \(String(cString: strerror(errno)))")
            }
        }
    }
}

// MARK: - Sendable

// One sender thread and one reader thread may share a connection (see the type's documentation): `send`
// touches only the descriptor, reads touch only the read buffer.
extension LineConnection: @unchecked Sendable {}
