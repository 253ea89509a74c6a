import ArgumentParser

/// A size in bytes given on the command line as a number with an optional `K`, `M`, `G` or `T` suffix
/// (powers of 1024), e.g. `512M`.
public struct ByteSize: ExpressibleByArgument, Sendable, Hashable {
    /// The size in bytes.
    public let bytes: Int

    /// Wraps a size.
    public init(bytes: Int) { self.bytes = bytes }

    public init?(argument: String) {
        var digits = Substring(argument.uppercased())
        var scale = 1
        if let suffix = digits.last, let power = "KMGT".firstIndex(of: suffix) {
            scale = 1 << (10 * ("KMGT".distance(from: "KMGT".startIndex, to: power) + 1))
            digits = digits.dropLast()
        }
        if digits.hasSuffix("I") || digits.hasSuffix("B") { return nil }
        guard let count = Int(digits), count > 0, count <= Int.max / scale else { return nil }
        bytes = count * scale
    }

    public var defaultValueDescription: String {
        for (suffix, shift) in [("T", 40), ("G", 30), ("M", 20), ("K", 10)] where bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(suffix)"
        }
        return String(bytes)
    }
}
