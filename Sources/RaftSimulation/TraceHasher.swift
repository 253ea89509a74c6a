/// FNV-1a over the events of a run, so two runs of one seed can be compared cheaply.
public struct TraceHasher {
    /// The running hash.
    public private(set) var value: UInt64 = 0xCBF2_9CE4_8422_2325

    /// Creates a hasher.
    public init() {}

    /// Mixes in one value.
    ///
    /// - Parameter x: the value.
    public mutating func mix(_ x: UInt64) {
        var v = x
        for _ in 0..<8 {
            value ^= v & 0xFF
            value = value &* 0x0000_0100_0000_01B3
            v >>= 8
        }
    }

    /// Mixes in bytes.
    ///
    /// - Parameter bytes: the bytes.
    public mutating func mix(bytes: [UInt8]) {
        mix(UInt64(bytes.count))
        for b in bytes {
            value ^= UInt64(b)
            value = value &* 0x0000_0100_0000_01B3
        }
    }
}

// MARK: - Sendable

extension TraceHasher: Sendable {}
