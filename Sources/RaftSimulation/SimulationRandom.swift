import Raft

/// Convenience draws on top of ``SplitMix64`` used by the simulator.
public struct SimulationRandom {
    private var generator: SplitMix64

    /// Creates a source.
    ///
    /// - Parameter seed: the seed.
    public init(seed: UInt64) {
        generator = SplitMix64(seed: seed)
    }

    /// A raw 64-bit value.
    public mutating func next() -> UInt64 {
        generator.next()
    }

    /// A uniform value in `[0, 1)`.
    public mutating func unit() -> Double {
        Double(generator.next() >> 11) / Double(UInt64(1) << 53)
    }

    /// True with probability `p`.
    ///
    /// - Parameter p: probability in `[0, 1]`.
    /// - Returns: the draw.
    public mutating func chance(_ p: Double) -> Bool {
        p > 0 && unit() < p
    }

    /// A uniform integer in `range`.
    ///
    /// - Parameter range: a non-empty closed range.
    /// - Returns: the draw.
    public mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(generator.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    /// A uniformly chosen element.
    ///
    /// - Parameter array: a non-empty array.
    /// - Returns: one element.
    public mutating func pick<T>(_ array: [T]) -> T {
        array[int(0...(array.count - 1))]
    }

    /// Shuffles in place (Fisher–Yates), deterministically for the seed.
    ///
    /// - Parameter array: the array to shuffle.
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, int(0...i))
        }
    }
}

// MARK: - Sendable

extension SimulationRandom: Sendable {}
