import ArgumentParser

/// How operations pick which existing record to touch (YCSB's `requestdistribution`).
public enum KeyDistribution: String, CaseIterable, Sendable {
    /// Every record equally likely.
    case uniform
    /// YCSB's scrambled zipfian (theta 0.99): a few hot records, scattered over the key space.
    case zipfian
    /// Zipfian over recency: the most recently inserted records are the hottest (YCSB workload D).
    case latest
}

// MARK: - ExpressibleByArgument

extension KeyDistribution: ExpressibleByArgument {}
