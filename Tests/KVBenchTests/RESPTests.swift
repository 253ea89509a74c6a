import Testing
@testable import KVBench

@Suite("RESP", .timeLimit(.minutes(2)))
struct RESPTests {
    private func parse(_ text: String) throws -> (value: RESPValue, length: Int)? {
        try RESPValue.parse(Array(text.utf8)[...])
    }

    @Test("commands are arrays of bulk strings")
    func encode() {
        let bytes = RESPValue.command([Array("SET".utf8), Array("k".utf8), [0x00, 0x0D, 0x0A]])
        #expect(bytes == Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n".utf8) + [0x00, 0x0D, 0x0A] + [0x0D, 0x0A])
    }

    @Test("every RESP2 type parses")
    func parseTypes() throws {
        #expect(try parse("+OK\r\n")?.value == .simple("OK"))
        #expect(try parse("-ERR wrong type\r\n")?.value == .error("ERR wrong type"))
        #expect(try parse(":42\r\n")?.value == .integer(42))
        #expect(try parse("$5\r\nhello\r\n")?.value == .bulk(Array("hello".utf8)))
        #expect(try parse("$0\r\n\r\n")?.value == .bulk([]))
        #expect(try parse("$-1\r\n")?.value == .bulk(nil))
        #expect(try parse("*-1\r\n")?.value == .array(nil))
        #expect(try parse("*0\r\n")?.value == .array([]))
        #expect(
            try parse("*3\r\n$1\r\na\r\n$-1\r\n*1\r\n:1\r\n")?.value
                == .array([.bulk([0x61]), .bulk(nil), .array([.integer(1)])]))
    }

    @Test("bulk strings may hold CRLF")
    func binaryBulk() throws {
        #expect(try parse("$4\r\na\r\nb\r\n")?.value == .bulk(Array("a\r\nb".utf8)))
    }

    @Test("partial input asks for more; pipelined input parses one value at a time")
    func framing() throws {
        #expect(try parse("$5\r\nhel") == nil)
        #expect(try parse("*2\r\n+OK\r\n") == nil)
        #expect(try parse("+OK") == nil)
        let bytes = Array("+OK\r\n+QUEUED\r\n".utf8)
        let first = try #require(try RESPValue.parse(bytes[...]))
        #expect(first.value == .simple("OK") && first.length == 5)
        let second = try #require(try RESPValue.parse(bytes[first.length...]))
        #expect(second.value == .simple("QUEUED") && second.length == 9)
    }

    @Test("garbage is a bad response")
    func garbage() {
        #expect(throws: DriverError.self) { try parse("hello\r\n") }
        #expect(throws: DriverError.self) { try parse(":x\r\n") }
        #expect(throws: DriverError.self) { try parse("$1\r\nab\r\n") }
    }
}
