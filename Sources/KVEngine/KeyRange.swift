/// A half-open range of keys `[lower, upper)` in byte order; a missing bound is unbounded.
public struct KeyRange: Sendable, Hashable {
    /// The first key of the range (inclusive), or `nil` for the first key of the column family.
    public var lower: [UInt8]?
    /// The key after the range (exclusive), or `nil` for past the last key of the column family.
    public var upper: [UInt8]?

    /// Creates a range.
    ///
    /// - Parameters:
    ///   - lower: Inclusive start, or `nil` for unbounded.
    ///   - upper: Exclusive end, or `nil` for unbounded.
    public init(lower: [UInt8]? = nil, upper: [UInt8]? = nil) {
        self.lower = lower
        self.upper = upper
    }

    /// Every key.
    public static let all = KeyRange()

    /// Whether `key` lies inside the range.
    public func contains(_ key: [UInt8]) -> Bool {
        if let lower, ByteOrder.precedes(key, lower) { return false }
        if let upper, !ByteOrder.precedes(key, upper) { return false }
        return true
    }

    /// Whether the range can hold no key at all (`lower >= upper`).
    public var isEmpty: Bool {
        guard let lower, let upper else { return false }
        return !lower.lexicographicallyPrecedes(upper)
    }
}
