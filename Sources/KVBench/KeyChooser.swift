/// Picks the record number of the next operation from the records that exist, following a
/// ``KeyDistribution``. One per client thread; it is driven by that client's ``SeededGenerator``.
public struct KeyChooser: Sendable {
    /// The distribution followed.
    public let distribution: KeyDistribution

    private var scrambled = ScrambledZipfianGenerator()
    private var recency: ZipfianGenerator?

    /// Creates a chooser.
    ///
    /// - Parameter distribution: The distribution to follow.
    public init(distribution: KeyDistribution) {
        self.distribution = distribution
    }

    /// Does the set-up work of the distribution for `count` records ahead of time (the zeta sum of `latest`
    /// costs one power per record), so it stays out of the timed window.
    ///
    /// - Parameter count: How many records exist; at least 1.
    public mutating func prepare(count: Int) {
        if distribution == .latest && recency == nil { recency = ZipfianGenerator(itemCount: count) }
    }

    /// The next record number in `[0, count)`.
    ///
    /// - Parameters:
    ///   - count: How many records exist (record numbers `0..<count`); at least 1.
    ///   - random: The client's random source.
    /// - Returns: A record number.
    public mutating func next(count: Int, using random: inout SeededGenerator) -> Int {
        precondition(count >= 1, "no records to choose from")
        switch distribution {
        case .uniform:
            return Int(random.next() % UInt64(count))
        case .zipfian:
            return scrambled.next(itemCount: count, using: &random)
        case .latest:
            // YCSB's SkewedLatestGenerator: the newest record is rank 0.
            var generator = recency ?? ZipfianGenerator(itemCount: count)
            let rank = generator.next(itemCount: count, using: &random)
            recency = generator
            return count - 1 - rank
        }
    }
}
