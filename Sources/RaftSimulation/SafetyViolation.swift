/// A violated Raft property, with enough context to debug the failing seed.
public struct SafetyViolation: Error {
    /// Which property (e.g. "election safety").
    public var property: String
    /// What was observed.
    public var detail: String

    /// Creates a violation.
    ///
    /// - Parameters:
    ///   - property: the property's name.
    ///   - detail: the evidence.
    public init(property: String, detail: String) {
        self.property = property
        self.detail = detail
    }
}

// MARK: - Equatable

extension SafetyViolation: Equatable {}

// MARK: - Sendable

extension SafetyViolation: Sendable {}

// MARK: - CustomStringConvertible

extension SafetyViolation: CustomStringConvertible {
    /// "property: detail".
    public var description: String { "\(property): \(detail)" }
}
