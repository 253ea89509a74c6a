import ArgumentParser

/// A duration given on the command line as a whole number with a unit: `ms`, `s`, `m` or `h`
/// (e.g. `500ms`, `20s`, `30m`). A bare number is refused rather than guessed at.
public struct DurationOption: ExpressibleByArgument, Sendable, Hashable {
    /// The duration in milliseconds.
    public let milliseconds: UInt64

    /// Wraps a duration.
    public init(milliseconds: UInt64) { self.milliseconds = milliseconds }

    public init?(argument: String) {
        let units: [(suffix: String, scale: UInt64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        let text = argument.lowercased()
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            // "5ms" also ends in "s": only accept when what is left is all digits.
            guard !digits.isEmpty, digits.allSatisfy(\.isNumber), let count = UInt64(digits),
                count <= UInt64.max / unit.scale
            else { continue }
            milliseconds = count * unit.scale
            return
        }
        return nil
    }

    public var defaultValueDescription: String {
        if milliseconds % 3_600_000 == 0 { return "\(milliseconds / 3_600_000)h" }
        if milliseconds % 60_000 == 0 { return "\(milliseconds / 60_000)m" }
        if milliseconds % 1000 == 0 { return "\(milliseconds / 1000)s" }
        return "\(milliseconds)ms"
    }
}
