/// YCSB's `ScrambledZipfianGenerator`: zipfian popularity, but the popular items are spread over the key
/// space by a hash instead of being the first ones.
///
/// As in YCSB, the underlying generator ranges over ten billion items with the zeta sum precomputed for
/// theta 0.99, and each draw is hashed (FNV-1a 64) modulo the current item count. Because the item count only
/// enters through the modulo, it may change from draw to draw at no cost (inserts grow the key space).
public struct ScrambledZipfianGenerator: Sendable {
    /// YCSB's `ITEM_COUNT`: the range of the underlying zipfian generator.
    static let underlyingItemCount = 10_000_000_000
    /// YCSB's `ZETAN`: the zeta sum of `underlyingItemCount` items for theta 0.99.
    static let underlyingZetaN = 26.46902820178302

    private var generator = ZipfianGenerator(
        itemCount: underlyingItemCount, theta: ZipfianGenerator.defaultTheta, zetaN: underlyingZetaN)

    /// Creates the generator.
    public init() {}

    /// Draws an item in `[0, itemCount)`.
    ///
    /// - Parameters:
    ///   - itemCount: How many items there are now; at least 1.
    ///   - random: The random source.
    /// - Returns: The item.
    public mutating func next(itemCount: Int, using random: inout SeededGenerator) -> Int {
        let rank = generator.next(using: &random)
        return Int(YCSBHash.fnv64(UInt64(rank)) % UInt64(itemCount))
    }
}
