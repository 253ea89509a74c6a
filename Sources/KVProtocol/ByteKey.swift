/// Bytes as a dictionary or set key, hashed in one pass over their memory.
///
/// `[UInt8]`'s own `Hashable` feeds the hasher one byte at a time, which cost a one-phase commit 2–3 µs in
/// hashing alone (its memory locks and the round's changes are dictionaries keyed by stored keys).
public struct ByteKey: Hashable, Sendable {
    /// The bytes.
    public var bytes: [UInt8]

    /// Wraps `bytes`.
    @inlinable
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    @inlinable
    public static func == (lhs: ByteKey, rhs: ByteKey) -> Bool { lhs.bytes == rhs.bytes }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
