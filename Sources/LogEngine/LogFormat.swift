/// The on-disk layout of the log, shared by the writer, recovery and the read-only inspector.
///
/// ```
/// DIR/log/0000000000000001.log   segment files, numbered in write order, preallocated and zero-filled
///
/// segment  = header (32 bytes) | batch* | zeros to the end of the file
/// header   = "KVLOGSEG" | u32 version | u32 0 | u64 segment id | u32 crc32c(bytes 0..<24) | u32 0
/// batch    = batch header frame | record frame*      (one `write`, then `fdatasync`, before the next batch)
/// frame    = u32 crc32c(length, type, payload) | u32 length | u8 type | payload (length bytes)
/// ```
///
/// Integers are big-endian. Payloads by type:
///
/// | type | record | payload |
/// | --- | --- | --- |
/// | 1 | entry | region u64, term u64, index u64, kind u8, data |
/// | 2 | hard state | region u64, term u64, vote u64, commit u64 |
/// | 3 | compact | region u64, index u64, term u64: entries up to `index` are gone |
/// | 4 | reset | region u64, index u64, term u64: every entry is gone; the log restarts after `index` (a snapshot) |
/// | 5 | batch header | sequence u64 (increasing across the log), length u32 (bytes of the batch, header included) |
///
/// Batches are atomic: recovery applies a batch's records only when all of them check out. Because each
/// batch is synced before the next one is written, only the last batch of the newest segment can be
/// incomplete after a crash; a bad record anywhere else, or one followed by a later complete batch, is
/// corruption.
///
/// Because segments are zero-filled before use, everything after the last record reads as zeros; an
/// all-zero record header never checks out, so the end of the data is unambiguous.
public enum LogFormat {
    /// The first eight bytes of every segment.
    public static let segmentMagic: [UInt8] = Array("KVLOGSEG".utf8)
    /// The segment format version this build writes and reads.
    public static let version: UInt32 = 1
    /// Bytes before the first record of a segment.
    public static let segmentHeaderSize = 32
    /// Bytes of a record's frame before its payload: checksum, length, type.
    public static let recordHeaderSize = 9
    /// The largest record payload; larger records are refused on write and read as corruption.
    public static let maxRecordPayload = 16 << 20
    /// A write larger than this is split into several batches, each synced before the next.
    public static let batchTargetBytes = 8 << 20
    /// The largest batch: the target plus one maximal record (a record never straddles two batches). Recovery
    /// uses it to bound how far an interrupted batch can reach.
    public static let maxBatchBytes = batchTargetBytes + recordHeaderSize + maxRecordPayload + 64

    /// The file name of segment `id`: 16 decimal digits and `.log`.
    public static func segmentName(_ id: UInt64) -> String {
        let digits = String(id)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".log"
    }

    /// The segment id a file name stands for, or nil for any other file.
    public static func segmentID(fromName name: String) -> UInt64? {
        guard name.hasSuffix(".log") else { return nil }
        let digits = name.dropLast(4)
        guard digits.count == 16, digits.allSatisfy(\.isASCII) else { return nil }
        return UInt64(digits)
    }

    /// The 32-byte header of segment `id`.
    static func segmentHeader(id: UInt64) -> [UInt8] {
        var header = segmentMagic
        header.appendBigEndian(version)
        header.appendBigEndian(UInt32(0))
        header.appendBigEndian(id)
        header.appendBigEndian(CRC32C.checksum(header))
        header.appendBigEndian(UInt32(0))
        return header
    }

    /// What the first bytes of a segment file say.
    enum HeaderCheck: Equatable {
        /// A valid header for this id.
        case valid
        /// A zero header, or a file shorter than a header: a preparation that may not have finished.
        case unfinished
        /// Anything else, explained.
        case invalid(String)
    }

    static func checkSegmentHeader(_ bytes: UnsafeRawBufferPointer, id: UInt64) -> HeaderCheck {
        guard bytes.count >= segmentHeaderSize else { return .unfinished }
        if bytes.isZero(0..<segmentHeaderSize) { return .unfinished }
        guard Array(bytes[0..<8]) == segmentMagic else { return .invalid("not a log segment (bad magic)") }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24])) == bytes.bigEndianUInt32(at: 24) else {
            return .invalid("segment header checksum mismatch")
        }
        let version = bytes.bigEndianUInt32(at: 8)
        guard version == Self.version else {
            return .invalid("segment format version \(version), this build reads version \(Self.version)")
        }
        let stored = bytes.bigEndianUInt64(at: 16)
        guard stored == id else { return .invalid("header names segment \(stored), the file name \(id)") }
        return .valid
    }
}
