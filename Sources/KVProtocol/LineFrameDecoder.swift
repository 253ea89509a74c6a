import NIOCore

/// One frame of the line protocol, as the decoder hands it on.
public enum LineFrame: Sendable, Equatable {
    /// A complete line, without its LF (and without a CR before it).
    case line(ByteBuffer)
    /// A line longer than the limit was skipped, up to and including its LF.
    case tooLong
}

/// Splits the byte stream into lines of at most `maxLength` bytes.
///
/// A longer line is not buffered: its bytes are dropped as they arrive and a single ``LineFrame/tooLong``
/// stands for it, so the connection stays usable and memory stays bounded.
public struct LineFrameDecoder: NIOSingleStepByteToMessageDecoder {
    public typealias InboundOut = LineFrame

    /// The longest line accepted, in bytes, without the LF.
    public let maxLength: Int
    private var searchedBytes = 0
    private var discarding = false

    /// Creates a decoder.
    ///
    /// - Parameter maxLength: The longest line accepted (default ``ProtocolLimits/maxLineLength``).
    public init(maxLength: Int = ProtocolLimits.maxLineLength) {
        self.maxLength = maxLength
    }

    public mutating func decode(buffer: inout ByteBuffer) throws -> LineFrame? {
        let readable = buffer.readableBytes
        let newline = buffer.withUnsafeReadableBytes { $0.firstIndex(of: 0x0A, from: searchedBytes) }
        if let length = newline {
            searchedBytes = 0
            if discarding || length > maxLength {
                discarding = false
                buffer.moveReaderIndex(forwardBy: length + 1)
                return .tooLong
            }
            var line = buffer.readSlice(length: length)!
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
            return .line(line)
        }
        if discarding || readable > maxLength {
            // Drop what we have of the over-long line; the rest is dropped as it comes.
            discarding = true
            buffer.moveReaderIndex(forwardBy: readable)
            searchedBytes = 0
            return nil
        }
        searchedBytes = readable
        return nil
    }

    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws -> LineFrame? {
        if let frame = try decode(buffer: &buffer) { return frame }
        // A last line without LF still counts, so `printf 'PING' | nc` works.
        guard seenEOF else { return nil }
        if discarding {
            discarding = false
            return .tooLong
        }
        guard buffer.readableBytes > 0 else { return nil }
        searchedBytes = 0
        var line = buffer.readSlice(length: buffer.readableBytes)!
        if line.readableBytesView.last == 0x0D { line.moveWriterIndex(to: line.writerIndex - 1) }
        return .line(line)
    }
}
