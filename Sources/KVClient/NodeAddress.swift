/// Where a node listens: `HOST:PORT` for TCP, or a Unix socket path.
public enum NodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// A TCP address; the host may be a name, an IPv4 address or an IPv6 address.
    case tcp(host: String, port: Int)
    /// A Unix domain socket.
    case unix(path: String)

    /// The default node address, `127.0.0.1:20160`.
    public static let standard = NodeAddress.tcp(host: "127.0.0.1", port: 20160)

    /// Parses `HOST:PORT`, `[IPV6]:PORT`, or a path (anything with a `/`, or ending in `.sock`).
    ///
    /// - Parameter text: The address.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/invalidAddress``.
    public init(parsing text: String) throws(KVClientError) {
        if text.contains("/") || text.hasSuffix(".sock") {
            self = .unix(path: text)
            return
        }
        var host = Substring(text)
        guard let colon = host.lastIndex(of: ":") else {
            throw KVClientError(.invalidAddress, "address '\(text)' is neither HOST:PORT nor a socket path")
        }
        let portText = host[host.index(after: colon)...]
        host = host[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let port = Int(portText), (0...65535).contains(port), !host.isEmpty else {
            throw KVClientError(.invalidAddress, "address '\(text)' has no valid host and port")
        }
        self = .tcp(host: String(host), port: port)
    }

    public var description: String {
        switch self {
        case .tcp(let host, let port): host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): path
        }
    }
}
