import KVClient

/// A minimal HTTP/1.1 client over one keep-alive connection, for etcd's JSON gateway.
///
/// Written here rather than taken from async-http-client: that package and its dependencies (NIO's SSL,
/// HTTP/2 and extras) add minutes to every clean CI build, and it is asynchronous while the runner's clients
/// are blocking threads with one connection each. Everything needed is `POST` with a JSON body on a
/// persistent connection and reading `Content-Length` or chunked answers, which ``HTTPResponse`` parses.
final class HTTPConnection {
    private let stream: SocketStream
    private let hostHeader: String

    /// Connects.
    ///
    /// - Throws: ``DriverError`` when the server cannot be reached.
    init(address: NodeAddress, timeout: Double) throws(DriverError) {
        stream = try DriverError.mapping { () throws(KVClientError) in
            try SocketStream(address: address, timeout: timeout)
        }
        switch address {
        case .tcp: hostHeader = address.description
        case .unix: hostHeader = "localhost"
        }
    }

    /// Whether the server announced that it closes the connection.
    private(set) var isClosed = false

    /// Sends a `POST` and reads its response.
    ///
    /// - Parameters:
    ///   - path: The request target, e.g. `/v3/kv/range`.
    ///   - body: The JSON body.
    /// - Returns: The response (any status).
    /// - Throws: ``DriverError`` for network failures and unparsable answers.
    func post(_ path: String, body: [UInt8]) throws(DriverError) -> HTTPResponse {
        guard !isClosed else { throw DriverError(.connectionClosed, "the server closed the HTTP connection") }
        var request = Array(
            "POST \(path) HTTP/1.1\r\nHost: \(hostHeader)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
                .utf8)
        request.append(contentsOf: body)
        try DriverError.mapping { () throws(KVClientError) in try stream.write(request) }
        while true {
            if let (response, length) = try HTTPResponse.parse(stream.unread) {
                stream.consume(length)
                if response.closesConnection { isClosed = true }
                return response
            }
            try DriverError.mapping { () throws(KVClientError) in try stream.fill() }
        }
    }
}
