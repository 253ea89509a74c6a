import KVProtocol
import KVTestSupport
import Testing

@Suite("Responses", .timeLimit(.minutes(2)))
struct ResponseTests {
    /// Feeds the encoded answers line by line and collects what the assembler returns.
    private func reparse(_ responses: [Response]) throws -> [Response] {
        var bytes: [UInt8] = []
        for response in responses { response.append(to: &bytes) }
        var assembler = ResponseAssembler()
        var parsed: [Response] = []
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
            if let response = try assembler.feed(line) { parsed.append(response) }
        }
        #expect(!assembler.isInsideAnswer)
        return parsed
    }

    @Test("every kind of answer survives encode then parse")
    func roundTrip() throws {
        var random = SeededGenerator(seed: 7)
        let rows = (0..<20).map { i in
            ScanRow(key: random.bytes(i + 1), value: i % 3 == 0 ? nil : random.bytes(i))
        }
        let responses: [Response] = [
            .pong, .ok, .ok(["1"]), .ok(["keys=3", "bytes=10"]), .value([]), .value(random.bytes(300)), .notFound,
            .rows([], more: false), .rows(rows, more: true), .rows(rows, more: false),
            .error(ProtocolError(.keyTooLarge, "key of 500 bytes is over the limit of 400")),
        ]
        #expect(try reparse(responses) == responses)
    }

    @Test("error messages stay on one printable line")
    func errorMessageSanitized() throws {
        let response = Response.error(ProtocolError(.storage, "bad\nthing\u{7}é"))
        let bytes = response.encoded
        #expect(bytes.filter { $0 == 0x0A }.count == 1)
        #expect(bytes.dropLast().allSatisfy { $0 >= 0x20 && $0 <= 0x7E })
        #expect(try reparse([response]) == [.error(ProtocolError(.storage, "bad?thing???"))])
    }

    @Test("a list whose first rows have one or two words and later ones more is read as records, every row kept")
    func recordsAfterShortRows() throws {
        var assembler = ResponseAssembler()
        var answers: [Response] = []
        for line in ["ROW a", "ROW b%20c d", "ROW 1 2 3", "ROW e", "END"] {
            if let answer = try assembler.feed(Array(line.utf8)[...]) { answers.append(answer) }
        }
        #expect(answers == [.records([["a"], ["b%20c", "d"], ["1", "2", "3"], ["e"]])])
        #expect(!assembler.isInsideAnswer)
        // The next answer starts clean.
        #expect(try assembler.feed(Array("ROW k v".utf8)[...]) == nil)
        #expect(try assembler.feed(Array("END".utf8)[...]) == .rows([ScanRow(key: Array("k".utf8), value: Array("v".utf8))], more: false))
    }

    @Test("row lines read the same however they are spaced, with or without a carriage return")
    func rowSpacing() throws {
        let expected = Response.rows([
            ScanRow(key: Array("a".utf8), value: Array("b c".utf8)), ScanRow(key: Array("k".utf8), value: nil),
            ScanRow(key: Array("x".utf8), value: []),
        ], more: false)
        for lines in [
            ["ROW a b%20c", "ROW k", "ROW x \"\"", "END"],
            ["ROW  a b%20c", "ROW k ", "ROW x  \"\"", "END"],
            ["ROW a  b%20c\r", "ROW k\r", "ROW x \"\"\r", "END\r"],
        ] {
            var assembler = ResponseAssembler()
            var answers: [Response] = []
            for line in lines {
                if let answer = try assembler.feed(Array(line.utf8)[...]) { answers.append(answer) }
            }
            #expect(answers == [expected], "\(lines)")
        }
        var assembler = ResponseAssembler()
        #expect(throws: ProtocolError.self) { try assembler.feed(Array("ROW a%zz b".utf8)[...]) }
    }

    @Test("garbage answers are rejected")
    func garbage() {
        var assembler = ResponseAssembler()
        #expect(throws: ProtocolError.self) { try assembler.feed(Array("HUH".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try assembler.feed(Array("VALUE".utf8)[...]) }
        #expect(throws: ProtocolError.self) { try assembler.feed(Array("VALUE %zz".utf8)[...]) }
    }
}
