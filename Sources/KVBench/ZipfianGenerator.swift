#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// YCSB's `ZipfianGenerator`: integers in `[0, itemCount)` where 0 is the most popular, then 1, and so on,
/// with popularity falling as `1 / rank^theta`.
///
/// The algorithm is Gray et al., "Quickly Generating Billion-Record Synthetic Databases" (SIGMOD 1994), as in
/// YCSB. The item count may grow between draws (YCSB's `latest` distribution does so); the zeta sum is then
/// extended incrementally instead of being recomputed.
public struct ZipfianGenerator: Sendable {
    /// YCSB's default skew.
    public static let defaultTheta = 0.99

    /// The skew: 0 is uniform, larger values concentrate on the first items.
    public let theta: Double
    /// The number of items the zeta sum currently covers.
    public private(set) var itemCount: Int

    private let alpha: Double
    private let zeta2Theta: Double
    private var zetaN: Double
    private var eta: Double

    /// Creates a generator over `[0, itemCount)`.
    ///
    /// - Parameters:
    ///   - itemCount: How many items; at least 1.
    ///   - theta: The skew, in `(0, 1)`.
    ///   - zetaN: The zeta sum for `itemCount`, when known in advance (it costs `itemCount` powers otherwise).
    public init(itemCount: Int, theta: Double = ZipfianGenerator.defaultTheta, zetaN knownZetaN: Double? = nil) {
        precondition(itemCount >= 1, "a zipfian generator needs at least one item")
        precondition(theta > 0 && theta < 1, "theta must be in (0, 1)")
        self.theta = theta
        self.itemCount = itemCount
        alpha = 1 / (1 - theta)
        zeta2Theta = Self.zeta(from: 0, to: 2, theta: theta, initial: 0)
        let zeta = knownZetaN ?? Self.zeta(from: 0, to: itemCount, theta: theta, initial: 0)
        zetaN = zeta
        eta = Self.eta(itemCount: itemCount, theta: theta, zeta2Theta: zeta2Theta, zetaN: zeta)
    }

    /// Draws an item in `[0, itemCount)` for the current item count.
    ///
    /// - Parameter random: The random source.
    /// - Returns: The item's rank (0 is the most popular).
    public mutating func next(using random: inout SeededGenerator) -> Int {
        let u = random.nextUnitDouble()
        let uz = u * zetaN
        if uz < 1 { return 0 }
        if uz < 1 + pow(0.5, theta) { return 1 }
        let rank = Int(Double(itemCount) * pow(eta * u - eta + 1, alpha))
        return min(rank, itemCount - 1)
    }

    /// Draws an item in `[0, count)`, first extending (or recomputing) the zeta sum if `count` changed.
    ///
    /// - Parameters:
    ///   - count: The item count now; at least 1.
    ///   - random: The random source.
    /// - Returns: The item's rank.
    public mutating func next(itemCount count: Int, using random: inout SeededGenerator) -> Int {
        if count != itemCount {
            if count > itemCount {
                zetaN = Self.zeta(from: itemCount, to: count, theta: theta, initial: zetaN)
            } else {
                zetaN = Self.zeta(from: 0, to: count, theta: theta, initial: 0)
            }
            itemCount = count
            eta = Self.eta(itemCount: count, theta: theta, zeta2Theta: zeta2Theta, zetaN: zetaN)
        }
        return next(using: &random)
    }

    /// The partial zeta sum `initial + Σ_{i=from+1}^{to} 1 / i^theta`.
    static func zeta(from start: Int, to end: Int, theta: Double, initial: Double) -> Double {
        var sum = initial
        var index = start
        while index < end {
            sum += 1 / pow(Double(index + 1), theta)
            index += 1
        }
        return sum
    }

    private static func eta(itemCount: Int, theta: Double, zeta2Theta: Double, zetaN: Double) -> Double {
        (1 - pow(2 / Double(itemCount), 1 - theta)) / (1 - zeta2Theta / zetaN)
    }
}
