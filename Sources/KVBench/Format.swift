/// Number formatting for reports, without Foundation.
enum Format {
    /// `value` with exactly `digits` decimals.
    static func fixed(_ value: Double, _ digits: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf") }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e18 else { return String(value) }
        let whole = Int(scaled)
        let integerPart = whole / Int(scale)
        let fraction = whole % Int(scale)
        var text = (value < 0 && whole != 0 ? "-" : "") + String(integerPart)
        if digits > 0 {
            let fractionText = String(fraction)
            text += "." + String(repeating: "0", count: digits - fractionText.count) + fractionText
        }
        return text
    }

    /// Microseconds as milliseconds with 3 decimals.
    static func milliseconds(_ microseconds: UInt64) -> String {
        fixed(Double(microseconds) / 1000, 3)
    }

    /// `text` padded on the left to `width`.
    static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// `text` padded on the right to `width`.
    static func left(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }
}
