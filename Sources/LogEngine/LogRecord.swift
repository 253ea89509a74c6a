import Raft

/// One record of the log, as written by ``LogBatch`` and replayed by recovery (see ``LogFormat``).
///
/// Replaying records in log order rebuilds every region's state; the same rules apply when a record is
/// written, so recovery and the live index cannot disagree:
///
/// - ``entry(region:_:)``: the region's entries at and after its index are dropped, then it is appended;
/// - ``hardState(region:_:)``: replaces the region's hard state;
/// - ``compact(region:index:term:)``: entries up to `index` are dropped (`term` is the term at `index`);
/// - ``reset(region:index:term:)``: every entry is dropped and the log restarts after `index`.
public enum LogRecord: Sendable, Equatable {
    /// A Raft entry of a region.
    case entry(region: UInt64, Entry)
    /// A region's Raft hard state.
    case hardState(region: UInt64, HardState)
    /// A region's log compacted up to `index` (its applied state covers them durably).
    case compact(region: UInt64, index: UInt64, term: UInt64)
    /// A region's log replaced by a snapshot at `index`.
    case reset(region: UInt64, index: UInt64, term: UInt64)

    /// The region the record belongs to.
    public var region: UInt64 {
        switch self {
        case .entry(let region, _), .hardState(let region, _), .compact(let region, _, _), .reset(let region, _, _):
            region
        }
    }

    var type: UInt8 {
        switch self {
        case .entry: 1
        case .hardState: 2
        case .compact: 3
        case .reset: 4
        }
    }

    /// The payload's size, without the frame.
    var payloadSize: Int {
        switch self {
        case .entry(_, let entry): 25 + entry.data.count
        case .hardState: 32
        case .compact, .reset: 24
        }
    }

    /// Appends the framed record (checksum, length, type, payload) to `buffer`.
    ///
    /// - Throws: ``LogEngineError/Code/recordTooLarge`` over ``LogFormat/maxRecordPayload``.
    func encode(into buffer: inout [UInt8]) throws {
        let largestIndex: UInt64
        switch self {
        case .entry(_, let entry): largestIndex = entry.index
        case .hardState(_, let state): largestIndex = state.commit
        case .compact(_, let index, _), .reset(_, let index, _): largestIndex = index
        }
        guard largestIndex <= Self.maxIndex else {
            throw LogEngineError(.recordTooLarge, "a log index of \(largestIndex) is past the limit of \(Self.maxIndex)")
        }
        guard payloadSize <= LogFormat.maxRecordPayload else {
            throw LogEngineError(
                .recordTooLarge,
                "a log record of \(payloadSize) bytes is over the limit of \(LogFormat.maxRecordPayload) bytes")
        }
        let start = buffer.count
        buffer.appendBigEndian(UInt32(0))  // checksum, filled in below
        buffer.appendBigEndian(UInt32(payloadSize))
        buffer.append(type)
        switch self {
        case .entry(let region, let entry):
            buffer.appendBigEndian(region)
            buffer.appendBigEndian(entry.term)
            buffer.appendBigEndian(entry.index)
            buffer.append(entry.kind.rawValue)
            buffer.append(contentsOf: entry.data)
        case .hardState(let region, let state):
            buffer.appendBigEndian(region)
            buffer.appendBigEndian(state.term)
            buffer.appendBigEndian(state.vote)
            buffer.appendBigEndian(state.commit)
        case .compact(let region, let index, let term), .reset(let region, let index, let term):
            buffer.appendBigEndian(region)
            buffer.appendBigEndian(index)
            buffer.appendBigEndian(term)
        }
        let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 4)...])) }
        buffer.storeBigEndian(crc, at: start)
    }

    /// Why bytes did not decode as a record.
    enum DecodeFailure: Error, Equatable {
        /// Fewer bytes than the frame says.
        case truncated
        /// The checksum does not match, or the length is impossible.
        case checksum
        /// A type this build does not know (a newer version wrote it), or a payload of the wrong size.
        case malformed(String)
    }

    /// A decoded frame: a record, or the header that opens each write.
    enum Frame {
        case record(LogRecord)
        /// Opens a batch: the bytes of one `write` (this frame included), synced before the next write starts.
        case batchHeader(sequence: UInt64, length: Int)
    }

    /// The frame type of batch headers.
    static let batchHeaderType: UInt8 = 5
    /// The framed size of a batch header.
    static let batchHeaderSize = LogFormat.recordHeaderSize + 12

    /// Appends a batch header frame to `buffer`.
    static func encodeBatchHeader(sequence: UInt64, length: Int, into buffer: inout [UInt8]) {
        let start = buffer.count
        buffer.appendBigEndian(UInt32(0))
        buffer.appendBigEndian(UInt32(12))
        buffer.append(batchHeaderType)
        buffer.appendBigEndian(sequence)
        buffer.appendBigEndian(UInt32(length))
        let crc = buffer.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 4)...])) }
        buffer.storeBigEndian(crc, at: start)
    }

    /// Decodes the frame at the start of `bytes`.
    ///
    /// - Returns: The frame and its size.
    /// - Throws: ``DecodeFailure``.
    static func decode(framed bytes: UnsafeRawBufferPointer) throws(DecodeFailure) -> (frame: Frame, size: Int) {
        guard bytes.count >= LogFormat.recordHeaderSize else { throw .truncated }
        let length = Int(bytes.bigEndianUInt32(at: 4))
        guard length <= LogFormat.maxRecordPayload else { throw .checksum }
        let size = LogFormat.recordHeaderSize + length
        guard bytes.count >= size else { throw .truncated }
        let stored = bytes.bigEndianUInt32(at: 0)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[4..<size])) == stored else { throw .checksum }
        let type = bytes[8]
        let payload = UnsafeRawBufferPointer(rebasing: bytes[LogFormat.recordHeaderSize..<size])
        if type == batchHeaderType {
            guard length == 12 else { throw .malformed("batch header with a payload of \(length) bytes") }
            return (.batchHeader(sequence: payload.bigEndianUInt64(at: 0), length: Int(payload.bigEndianUInt32(at: 8))), size)
        }
        return (.record(try decodePayload(type: type, payload)), size)
    }

    /// Indexes past this are refused as malformed: no log gets near it, and it keeps index arithmetic
    /// (`index + 1`, distances as `Int`) clear of overflow whatever a damaged record says.
    static let maxIndex: UInt64 = 1 << 62

    private static func decodePayload(type: UInt8, _ p: UnsafeRawBufferPointer) throws(DecodeFailure) -> LogRecord {
        func need(_ count: Int, exact: Bool = true) throws(DecodeFailure) {
            if exact ? p.count != count : p.count < count {
                throw .malformed("record type \(type) with a payload of \(p.count) bytes")
            }
        }
        func index(at offset: Int) throws(DecodeFailure) -> UInt64 {
            let value = p.bigEndianUInt64(at: offset)
            guard value <= maxIndex else { throw .malformed("record type \(type) with index \(value)") }
            return value
        }
        switch type {
        case 1:
            try need(25, exact: false)
            guard let kind = EntryKind(rawValue: p[24]) else { throw .malformed("entry of unknown kind \(p[24])") }
            let entry = Entry(term: p.bigEndianUInt64(at: 8), index: try index(at: 16), kind: kind, data: Array(p[25...]))
            return .entry(region: p.bigEndianUInt64(at: 0), entry)
        case 2:
            try need(32)
            let state = HardState(term: p.bigEndianUInt64(at: 8), vote: p.bigEndianUInt64(at: 16), commit: try index(at: 24))
            return .hardState(region: p.bigEndianUInt64(at: 0), state)
        case 3:
            try need(24)
            return .compact(region: p.bigEndianUInt64(at: 0), index: try index(at: 8), term: p.bigEndianUInt64(at: 16))
        case 4:
            try need(24)
            return .reset(region: p.bigEndianUInt64(at: 0), index: try index(at: 8), term: p.bigEndianUInt64(at: 16))
        default:
            throw .malformed("unknown record type \(type) (written by a newer version?)")
        }
    }
}
