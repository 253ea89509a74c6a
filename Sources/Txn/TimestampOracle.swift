/// Hands out strictly increasing timestamps: `physical milliseconds << 18 | logical`.
///
/// A high-water mark a few seconds ahead of the clock is made durable before any timestamp at or past it is
/// handed out; a restarted oracle starts at that mark, so it never goes back even if the clock did. When one
/// millisecond's 2^18 logical values run out, or the clock stands still or steps back, the oracle moves its
/// physical part ahead of the clock by itself rather than waiting.
public struct TimestampOracle: Sendable {
    /// Bits of the logical counter.
    public static let logicalBits = 18
    /// Logical values per millisecond.
    public static let logicalLimit: UInt64 = 1 << logicalBits

    /// Physical part of the last timestamp handed out.
    private var physical: UInt64
    /// Logical part of the last timestamp handed out; nil before the first at `physical`.
    private var logical: UInt64?
    /// The durable high-water mark: every physical part handed out is below it.
    public private(set) var persistedLimit: UInt64
    private let window: UInt64

    /// Starts above everything a previous oracle with high-water mark `persistedLimit` could have handed out.
    ///
    /// - Parameters:
    ///   - persistedLimit: The mark loaded from disk (0 for a new cluster).
    ///   - window: How far ahead of the clock to persist the mark, in milliseconds.
    public init(persistedLimit: UInt64, window: UInt64) {
        self.physical = persistedLimit
        self.logical = nil
        self.persistedLimit = persistedLimit
        self.window = window
    }

    /// Hands out `count` consecutive timestamps.
    ///
    /// - Parameters:
    ///   - count: How many (1...2^16).
    ///   - now: The wall clock in milliseconds.
    ///   - persist: Makes a new high-water mark durable; called before a timestamp at or past the old mark is
    ///     handed out. When it throws, nothing is handed out and the oracle is unchanged.
    /// - Returns: The first timestamp; the others follow it one by one.
    public mutating func next<Failure: Error>(
        count: Int, now: UInt64, persist: (UInt64) throws(Failure) -> Void
    ) throws(Failure) -> UInt64 {
        precondition(count >= 1 && UInt64(count) <= Self.logicalLimit)
        var nextPhysical = physical
        var nextLogical: UInt64 = 0
        if now > physical {
            nextPhysical = now
        } else if let logical {
            nextLogical = logical + 1
        }
        if nextLogical + UInt64(count) > Self.logicalLimit {
            nextPhysical += 1
            nextLogical = 0
        }
        if nextPhysical >= persistedLimit {
            let limit = nextPhysical + window
            try persist(limit)
            persistedLimit = limit
        }
        physical = nextPhysical
        logical = nextLogical + UInt64(count) - 1
        return nextPhysical << UInt64(Self.logicalBits) | nextLogical
    }

    /// The physical milliseconds of a timestamp.
    public static func physical(of timestamp: UInt64) -> UInt64 { timestamp >> UInt64(logicalBits) }
    /// The logical counter of a timestamp.
    public static func logical(of timestamp: UInt64) -> UInt64 { timestamp & (logicalLimit - 1) }
}
