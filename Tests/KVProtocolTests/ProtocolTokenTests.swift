import KVProtocol
import KVTestSupport
import Testing

@Suite("Token escaping", .timeLimit(.minutes(2)))
struct ProtocolTokenTests {
    @Test("random byte strings round-trip and encode to printable, space-free tokens")
    func randomRoundTrip() throws {
        var random = SeededGenerator(seed: 0x5EED)
        for _ in 0..<5_000 {
            let length = Int.random(in: 0...64, using: &random)
            // Bias towards the bytes that need care: NUL, space, LF, CR, '%', '"', and high bytes.
            let bytes: [UInt8] = (0..<length).map { _ in
                Bool.random(using: &random)
                    ? [0x00, 0x20, 0x0A, 0x0D, 0x25, 0x22, 0x80, 0xFF, 0x7F, 0x09].randomElement(using: &random)!
                    : UInt8.random(in: 0...255, using: &random)
            }
            let token = ProtocolToken.encode(bytes)
            #expect(!token.isEmpty)
            #expect(token.allSatisfy { $0 >= 0x21 && $0 <= 0x7E })
            #expect(try ProtocolToken.decode(token[...]) == bytes)
        }
    }

    @Test("known encodings", arguments: [
        ("", "\"\""),
        ("abc", "abc"),
        ("a b", "a%20b"),
        ("100%", "100%25"),
        ("say \"hi\"", "say%20%22hi%22"),
        ("line\n", "line%0A"),
        ("\0", "%00"),
        ("é", "%C3%A9"),
    ])
    func knownEncodings(plain: String, token: String) throws {
        #expect(ProtocolToken.encodeString(Array(plain.utf8)) == token)
        #expect(try ProtocolToken.decode(Array(token.utf8)[...]) == Array(plain.utf8))
    }

    @Test("lower-case hex digits decode too")
    func lowerCaseHex() throws {
        #expect(try ProtocolToken.decode(Array("%c3%a9".utf8)[...]) == [0xC3, 0xA9])
    }

    @Test("malformed tokens are rejected with BAD_ESCAPE", arguments: [
        Array("%".utf8), Array("%4".utf8), Array("%G1".utf8), Array("a%zz".utf8), [0x80], [0x61, 0x09],
        Array("\"abc\"".utf8), Array("\"".utf8), [0x20],
    ])
    func malformed(token: [UInt8]) {
        #expect(throws: ProtocolError.self) { try ProtocolToken.decode(token[...]) }
        do {
            _ = try ProtocolToken.decode(token[...])
        } catch {
            #expect(error.code == .badEscape)
        }
    }

    @Test("numbers")
    func numbers() throws {
        #expect(try ProtocolToken.decodeNumber(Array("1234".utf8)[...], name: "n") == 1234)
        #expect(throws: ProtocolError.self) { try ProtocolToken.decodeNumber(Array("-1".utf8)[...], name: "n") }
        #expect(throws: ProtocolError.self) { try ProtocolToken.decodeNumber(Array("1e3".utf8)[...], name: "n") }
        #expect(throws: ProtocolError.self) {
            try ProtocolToken.decodeNumber(Array("99999999999999999999".utf8)[...], name: "n")
        }
    }
}
