/// One HTTP/1.1 response, parsed from received bytes: enough of RFC 9112 for a JSON API over keep-alive
/// (`Content-Length` or chunked bodies).
public struct HTTPResponse: Sendable, Hashable {
    /// The status code, e.g. 200.
    public var status: Int
    /// The body, de-chunked.
    public var body: [UInt8]
    /// Whether the server said it closes the connection after this response.
    public var closesConnection: Bool

    /// Creates a response.
    public init(status: Int, body: [UInt8], closesConnection: Bool = false) {
        self.status = status
        self.body = body
        self.closesConnection = closesConnection
    }
}

// MARK: - Parsing

extension HTTPResponse {
    /// The largest body accepted.
    static let maxBodySize = 64 << 20

    /// Parses one response from the front of `bytes`.
    ///
    /// - Parameter bytes: Received bytes; may hold a partial response.
    /// - Returns: The response and the bytes it took, or `nil` when more bytes are needed.
    /// - Throws: ``DriverError`` of kind badResponse when the bytes are not an HTTP/1.1 response this parser
    ///   supports.
    public static func parse(_ bytes: ArraySlice<UInt8>) throws(DriverError) -> (response: HTTPResponse, length: Int)? {
        guard let headerEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: bytes, from: bytes.startIndex) else {
            if bytes.count > 64 * 1024 { throw DriverError(.badResponse, "HTTP header longer than 64 KiB") }
            return nil
        }
        let lines = bytes[bytes.startIndex..<headerEnd].split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { String(decoding: $0.last == 0x0D ? $0.dropLast() : $0, as: UTF8.self) }
        let statusWords = lines[0].split(separator: " ", maxSplits: 2)
        guard statusWords.count >= 2, statusWords[0].hasPrefix("HTTP/1."), let status = Int(statusWords[1]) else {
            throw DriverError(.badResponse, "not an HTTP/1.x status line: \(lines[0].prefix(60))")
        }
        var contentLength: Int?
        var chunked = false
        var closes = statusWords[0] == "HTTP/1.0"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces.lowercased()
            switch name {
            case "content-length":
                guard let length = Int(value), length >= 0, length <= maxBodySize else {
                    throw DriverError(.badResponse, "bad Content-Length \(value)")
                }
                contentLength = length
            case "transfer-encoding":
                chunked = value.contains("chunked")
            case "connection":
                if value.contains("close") { closes = true }
                if value.contains("keep-alive") { closes = false }
            default:
                break
            }
        }
        let bodyStart = headerEnd + 4
        if chunked {
            guard let (body, end) = try dechunk(bytes, from: bodyStart) else { return nil }
            return (HTTPResponse(status: status, body: body, closesConnection: closes), end - bytes.startIndex)
        }
        // Responses to POST without a length (and not 204/304) would run to the connection's end: refused,
        // since this client keeps connections open.
        let length = contentLength ?? ((status == 204 || status == 304) ? 0 : -1)
        guard length >= 0 else { throw DriverError(.badResponse, "HTTP response without Content-Length or chunking") }
        guard bodyStart + length <= bytes.endIndex else { return nil }
        let body = Array(bytes[bodyStart..<(bodyStart + length)])
        return (HTTPResponse(status: status, body: body, closesConnection: closes), bodyStart + length - bytes.startIndex)
    }

    private static func dechunk(_ bytes: ArraySlice<UInt8>, from start: Int) throws(DriverError) -> ([UInt8], Int)? {
        var body: [UInt8] = []
        var position = start
        while true {
            guard let lineEnd = find([0x0D, 0x0A], in: bytes, from: position) else { return nil }
            let sizeText = String(decoding: bytes[position..<lineEnd], as: UTF8.self)
            let sizeDigits = sizeText.split(separator: ";", maxSplits: 1).first.map { String($0).trimmingSpaces } ?? ""
            guard let size = Int(sizeDigits, radix: 16), size >= 0, body.count + size <= maxBodySize else {
                throw DriverError(.badResponse, "bad HTTP chunk size '\(sizeText.prefix(20))'")
            }
            position = lineEnd + 2
            if size == 0 {
                // Trailer fields (none expected) end with an empty line.
                while true {
                    guard let end = find([0x0D, 0x0A], in: bytes, from: position) else { return nil }
                    let empty = end == position
                    position = end + 2
                    if empty { return (body, position) }
                }
            }
            guard position + size + 2 <= bytes.endIndex else { return nil }
            body.append(contentsOf: bytes[position..<(position + size)])
            guard bytes[position + size] == 0x0D, bytes[position + size + 1] == 0x0A else {
                throw DriverError(.badResponse, "HTTP chunk not followed by CRLF")
            }
            position += size + 2
        }
    }

    private static func find(_ needle: [UInt8], in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard bytes.endIndex - start >= needle.count else { return nil }
        var index = start
        let last = bytes.endIndex - needle.count
        while index <= last {
            if bytes[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
