/// The sizes the protocol accepts. They are part of the protocol and documented in `kvproto(7)`.
public enum ProtocolLimits {
    /// The longest key, in bytes.
    ///
    /// LMDB in Debian's build stores keys of up to 511 bytes. Transactional keys are stored encoded: the user key
    /// in groups of 8 bytes plus a marker byte (9/8 of its size, rounded up), a one-byte prefix and an 8-byte
    /// timestamp. 400 bytes encode to 450 + 9 = 459 bytes, which leaves room under 511 for that layout.
    public static let maxKeySize = 400
    /// The longest value, in bytes (1 MiB, like etcd's default request limit).
    public static let maxValueSize = 1 << 20
    /// The longest request line, in bytes, excluding the line feed: a fully escaped value of
    /// ``maxValueSize`` (3 bytes per byte) with a fully escaped key and the verb fits.
    public static let maxLineLength = 3 * maxValueSize + 4096
    /// The most rows one `SCAN` returns; ask again from the last key for more.
    public static let maxScanLimit = 10_000
    /// The rows a `SCAN` returns when it names no `LIMIT`.
    public static let defaultScanLimit = 1_000
    /// A `SCAN` stops adding rows once its answer holds this many bytes of keys and values, and says `END MORE`.
    public static let maxScanBytes = 4 << 20
}
