import KVProtocol
import KVTestSupport
import NIOCore
import Testing

@Suite("Line framing", .timeLimit(.minutes(2)))
struct LineFrameDecoderTests {
    /// Feeds `chunks` one after another, as the network would, and collects the frames.
    private func frames(_ chunks: [[UInt8]], maxLength: Int = 16, eof: Bool = true) throws -> [String] {
        var decoder = LineFrameDecoder(maxLength: maxLength)
        var buffer = ByteBuffer()
        var result: [String] = []
        func collect(_ frame: LineFrame) {
            switch frame {
            case .line(let line): result.append(String(decoding: line.readableBytesView, as: UTF8.self))
            case .tooLong: result.append("<too long>")
            }
        }
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let frame = try decoder.decode(buffer: &buffer) { collect(frame) }
            buffer.discardReadBytes()
        }
        if eof {
            while let frame = try decoder.decodeLast(buffer: &buffer, seenEOF: true) { collect(frame) }
        }
        return result
    }

    @Test("lines split anywhere are reassembled; CR before LF is dropped")
    func reassembly() throws {
        let text = Array("PING\r\nGET a\nPUT k v\n".utf8)
        for cut in 0...text.count {
            #expect(try frames([Array(text[..<cut]), Array(text[cut...])]) == ["PING", "GET a", "PUT k v"])
        }
        #expect(try frames(text.map { [$0] }) == ["PING", "GET a", "PUT k v"])
    }

    @Test("an over-long line becomes one tooLong frame and the next line is fine")
    func overLong() throws {
        let long = [UInt8](repeating: 0x61, count: 100)
        #expect(try frames([long, long, Array("\nPING\n".utf8)]) == ["<too long>", "PING"])
        #expect(try frames([Array("0123456789abcdef\n".utf8)]) == ["0123456789abcdef"])
        #expect(try frames([Array("0123456789abcdefg\nX\n".utf8)]) == ["<too long>", "X"])
    }

    @Test("a last line without LF counts at end of input")
    func lastLine() throws {
        #expect(try frames([Array("PING\nSTATS".utf8)]) == ["PING", "STATS"])
        #expect(try frames([Array("PING\nSTATS".utf8)], eof: false) == ["PING"])
        #expect(try frames([[UInt8](repeating: 0x61, count: 40)]) == ["<too long>"])
    }
}
