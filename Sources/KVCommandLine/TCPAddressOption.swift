import ArgumentParser

/// The `--listen HOST:PORT` option of the servers.
public enum TCPAddressOption {
    /// The TCP address to listen on: `listen` parsed; none when only a socket was given; else the default.
    ///
    /// - Parameters:
    ///   - listen: `--listen` as given, or nil.
    ///   - socket: `--socket` as given, or nil.
    ///   - defaultAddress: What to listen on when neither was given.
    /// - Throws: `ValidationError` naming the bad address.
    public static func parse(_ listen: String?, socket: String?, defaultAddress: String) throws -> (host: String, port: Int)? {
        if listen == nil && socket != nil { return nil }
        let text = listen ?? defaultAddress
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else {
            throw ValidationError("--listen must be HOST:PORT with a port of 0-65535, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
