import Testing
@testable import KVBench

@Suite("HTTP/1.1 responses", .timeLimit(.minutes(2)))
struct HTTPResponseTests {
    private func parse(_ text: String) throws -> (response: HTTPResponse, length: Int)? {
        try HTTPResponse.parse(Array(text.utf8)[...])
    }

    @Test("Content-Length bodies, and pipelined responses one at a time")
    func contentLength() throws {
        let raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"
        let first = try #require(try parse(raw))
        #expect(first.response == HTTPResponse(status: 200, body: Array("{}".utf8)))
        let bytes = Array(raw.utf8)
        let second = try #require(try HTTPResponse.parse(bytes[first.length...]))
        #expect(second.response.status == 404)
        #expect(first.length + second.length == bytes.count)
    }

    @Test("chunked bodies are joined")
    func chunked() throws {
        let raw = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n"
        let parsed = try #require(try parse(raw))
        #expect(parsed.response.body == Array("{\"a\":1}".utf8))
        #expect(parsed.length == raw.utf8.count)
    }

    @Test("partial responses ask for more")
    func partial() throws {
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n") == nil)
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc") == nil)
        #expect(try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab") == nil)
        #expect(try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n") == nil)
    }

    @Test("Connection: close is noticed; garbage is refused")
    func closeAndGarbage() throws {
        let closing = try #require(try parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"))
        #expect(closing.response.closesConnection)
        #expect(throws: DriverError.self) { try parse("SSH-2.0-OpenSSH\r\n\r\n") }
        #expect(throws: DriverError.self) { try parse("HTTP/1.1 200 OK\r\n\r\n") }
    }

    @Test("--url forms")
    func urls() throws {
        #expect(try StoreTarget.address(fromURL: "redis://127.0.0.1:6380") == .tcp(host: "127.0.0.1", port: 6380))
        #expect(try StoreTarget.address(fromURL: "http://127.0.0.1:2379/") == .tcp(host: "127.0.0.1", port: 2379))
        #expect(try StoreTarget.address(fromURL: "redis://:secret@localhost:1") == .tcp(host: "localhost", port: 1))
        #expect(try StoreTarget.address(fromURL: "unix:///tmp/r.sock") == .unix(path: "/tmp/r.sock"))
        #expect(try StoreTarget.address(fromURL: "127.0.0.1:9") == .tcp(host: "127.0.0.1", port: 9))
        #expect(throws: BenchError.self) { try StoreTarget.address(fromURL: "https://127.0.0.1:2379") }
    }
}
