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

    @Test("decimals are written as String(value) writes them")
    func decimals() {
        var random = SeededGenerator(seed: 3)
        let values: [UInt64] = [0, 1, 9, 10, 99, 100, 1_000_000, UInt64.max, UInt64.max - 1]
            + (0..<500).map { _ in UInt64.random(in: 0...UInt64.max, using: &random) >> UInt64.random(in: 0...63, using: &random) }
        for value in values {
            var out: [UInt8] = [0x41]
            ProtocolToken.appendDecimal(value, to: &out)
            #expect(out == Array("A\(value)".utf8))
        }
    }

    @Test("byte keys are equal, and hash alike, exactly when their bytes are")
    func byteKeys() {
        var random = SeededGenerator(seed: 5)
        var seen: [ByteKey: Int] = [:]
        let keys = (0..<300).map { i in i % 3 == 0 ? [] : random.bytes(i % 7) }
        for (i, key) in keys.enumerated() { seen[ByteKey(key), default: 0] += 1; _ = i }
        #expect(seen.count == Set(keys).count)
        for key in Set(keys) {
            #expect(seen[ByteKey(key)] == keys.filter { $0 == key }.count)
            #expect(ByteKey(key).hashValue == ByteKey(Array(key)).hashValue)
        }
        #expect(ByteKey([1, 2]) != ByteKey([1, 2, 0]))
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
