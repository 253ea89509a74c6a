import KVProtocol

/// A blocking connection to a node that sends request lines and reads answer lines, over a
/// ``SocketStream``.
///
/// One thread may send while another reads (the way `kvctl batch` pipelines), but two threads must not both
/// send or both read. Every wait is bounded by the timeout given at creation.
public final class LineConnection {
    /// The stream underneath.
    public let stream: SocketStream
    private var assembler = ResponseAssembler()

    /// The longest answer line accepted (a full `VALUE` of the largest value, escaped, and some).
    public static let maxLineLength = ProtocolLimits.maxLineLength + 64

    /// Connects.
    ///
    /// - Parameters:
    ///   - address: The node.
    ///   - timeout: The bound on each wait, in seconds, or `nil`.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/unreachable`` or ``KVClientError/Kind/timeout``.
    public init(to address: NodeAddress, timeout: Double? = 10) throws(KVClientError) {
        stream = try SocketStream(address: address, timeout: timeout)
    }

    /// The address connected to.
    public var address: NodeAddress { stream.address }
    /// How long any one connect, send or read may wait, in seconds; `nil` waits forever.
    public var timeout: Double? { stream.timeout }

    /// Sends bytes (one or more complete request lines).
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed`` or
    ///   ``KVClientError/Kind/timeout``.
    public func send(_ bytes: [UInt8]) throws(KVClientError) {
        try stream.write(bytes)
    }

    /// Sends one request.
    public func send(_ request: Request) throws(KVClientError) {
        try send(request.encoded)
    }

    /// Tells the node that no more requests follow; it answers what it has, then closes.
    public func finishSending() {
        stream.finishWriting()
    }

    /// Reads the next complete answer (all lines of a row answer).
    ///
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/connectionClosed``, ``KVClientError/Kind/timeout``
    ///   or ``KVClientError/Kind/badResponse``. An `ERR` answer is returned, not thrown.
    public func readResponse() throws(KVClientError) -> Response {
        while true {
            let length = try nextLineLength()
            let answer: Response?
            do {
                answer = try assembler.feed(stream.unread.prefix(length))
            } catch {
                throw KVClientError(.badResponse, "bad answer from \(address): \(error.message)")
            }
            stream.consume(length + 1)
            if let answer { return answer }
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
        let length = try nextLineLength()
        var line = Array(stream.unread.prefix(length))
        stream.consume(length + 1)
        if line.last == 0x0D { line.removeLast() }
        return line
    }

    /// Waits until a whole line is buffered and returns its length (without the LF).
    private func nextLineLength() throws(KVClientError) -> Int {
        while true {
            if let length = stream.offset(of: 0x0A) { return length }
            if stream.unreadCount > Self.maxLineLength {
                throw KVClientError(
                    .badResponse, "answer line from \(address) is longer than \(Self.maxLineLength) bytes")
            }
            try stream.fill()
        }
    }
}

// MARK: - Sendable

// One sender thread and one reader thread may share a connection (see the type's documentation): `send`
// touches only the stream's descriptor, reads only its buffer and the assembler.
extension LineConnection: @unchecked Sendable {}
