#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening of client sockets with a bounded connect, for this protocol and for drivers of other stores.
public enum SocketConnector {
    /// Connects to `address` and returns a blocking socket descriptor (TCP_NODELAY set), which the caller
    /// owns and must close.
    ///
    /// - Parameters:
    ///   - address: A TCP address (names are resolved, every address tried) or a Unix socket path.
    ///   - timeout: The bound on the connect, in seconds, or `nil`.
    /// - Throws: ``KVClientError`` of kind ``KVClientError/Kind/unreachable``, ``KVClientError/Kind/timeout`` or
    ///   ``KVClientError/Kind/invalidAddress``.
    public static func connect(to address: NodeAddress, timeout: Double?) throws(KVClientError) -> Int32 {
        switch address {
        case .unix(let path):
            var socketAddress = sockaddr_un()
            socketAddress.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: socketAddress.sun_path) else {
                throw KVClientError(.invalidAddress, "socket path \(path) is too long")
            }
            withUnsafeMutableBytes(of: &socketAddress.sun_path) { $0.copyBytes(from: bytes) }
            return try withUnsafePointer(to: &socketAddress) { pointer throws(KVClientError) in
                try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw throws(KVClientError) in
                    try open(family: AF_UNIX, address: raw, length: socklen_t(MemoryLayout<sockaddr_un>.size),
                             timeout: timeout, name: path)
                }
            }
        case .tcp(let host, let port):
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var list: UnsafeMutablePointer<addrinfo>?
            let rc = getaddrinfo(host, String(port), &hints, &list)
            guard rc == 0, let first = list else {
                throw KVClientError(.unreachable, "cannot resolve \(host): \(String(cString: gai_strerror(rc)))")
            }
            defer { freeaddrinfo(list) }
            var lastError = KVClientError(.unreachable, "cannot connect to \(host):\(port)")
            var entry: UnsafeMutablePointer<addrinfo>? = first
            while let current = entry {
                do {
                    let fd = try open(family: current.pointee.ai_family, address: current.pointee.ai_addr,
                                      length: current.pointee.ai_addrlen, timeout: timeout, name: "\(host):\(port)")
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                } catch {
                    lastError = error
                }
                entry = current.pointee.ai_next
            }
            throw lastError
        }
    }

    private static func open(
        family: Int32, address: UnsafePointer<sockaddr>, length: socklen_t, timeout: Double?, name: String
    ) throws(KVClientError) -> Int32 {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw KVClientError(.unreachable, "cannot create a socket: \(String(cString: strerror(errno)))")
        }
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
        var rc = Glibc.connect(fd, address, length)
        if rc != 0 && errno == EINPROGRESS {
            var pollDescriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            let milliseconds = timeout.map { Int32(min($0 * 1000, Double(Int32.max))) } ?? -1
            repeat { rc = poll(&pollDescriptor, 1, milliseconds) } while rc < 0 && errno == EINTR
            if rc == 0 {
                close(fd)
                throw KVClientError(.timeout, "timed out connecting to \(name)")
            }
            var socketError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &size)
            errno = socketError
            rc = socketError == 0 ? 0 : -1
        }
        if rc != 0 {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw KVClientError(.unreachable, "cannot connect to \(name): \(reason)")
        }
        _ = fcntl(fd, F_SETFL, flags)
        return fd
    }
}
