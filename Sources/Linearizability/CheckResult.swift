/// The verdict of a linearizability check.
public enum CheckResult: Sendable, Hashable {
    /// Every key's history has a linearization.
    case linearizable
    /// Some key's history has none; the violation shows a shrunk counterexample.
    case notLinearizable(Violation)
    /// The search budget ran out before a verdict; the reason names the keys.
    case unknown(String)
}

extension CheckResult {
    /// The violation, when the history is not linearizable.
    public var violation: Violation? {
        if case .notLinearizable(let violation) = self { violation } else { nil }
    }
}

extension CheckResult: CustomStringConvertible {
    /// A human-readable verdict.
    public var description: String {
        switch self {
        case .linearizable: "linearizable"
        case .notLinearizable(let violation): "not linearizable: \(violation)"
        case .unknown(let reason): "unknown: \(reason)"
        }
    }
}
