import ArgumentParser

/// A named workload: YCSB's core workloads A–F and this project's own.
///
/// | workload | mix | default keys |
/// | --- | --- | --- |
/// | `a` update heavy | 50% read, 50% update | zipfian |
/// | `b` read mostly | 95% read, 5% update | zipfian |
/// | `c` read only | 100% read | zipfian |
/// | `d` read latest | 95% read, 5% insert | latest |
/// | `e` short ranges | 95% scan (1–100 records), 5% insert | zipfian |
/// | `f` read-modify-write | 50% read, 50% read-modify-write | zipfian |
/// | `raw-put` | 100% update | uniform |
/// | `raw-get` | 100% read | uniform |
/// | `mixed` | `--read-ratio` reads, the rest updates | uniform |
/// | `txn-transfer` | 100% two-account transfers | uniform |
public enum Workload: String, CaseIterable, Sendable {
    /// YCSB A: update heavy.
    case a
    /// YCSB B: read mostly.
    case b
    /// YCSB C: read only.
    case c
    /// YCSB D: read latest.
    case d
    /// YCSB E: short ranges.
    case e
    /// YCSB F: read-modify-write.
    case f
    /// Overwrites of existing records only.
    case rawPut = "raw-put"
    /// Reads only.
    case rawGet = "raw-get"
    /// Reads and updates in a chosen ratio.
    case mixed
    /// Transfers between two accounts in optimistic transactions; the total must be conserved.
    case txnTransfer = "txn-transfer"

    /// The operation mix.
    ///
    /// - Parameter readRatio: The share of reads for ``mixed``, in `[0, 1]`; ignored by the others.
    /// - Returns: The kinds and their shares.
    public func mix(readRatio: Double = 0.5) -> OperationMix {
        switch self {
        case .a: OperationMix([(.read, 0.5), (.update, 0.5)])
        case .b: OperationMix([(.read, 0.95), (.update, 0.05)])
        case .c: OperationMix([(.read, 1)])
        case .d: OperationMix([(.read, 0.95), (.insert, 0.05)])
        case .e: OperationMix([(.scan, 0.95), (.insert, 0.05)])
        case .f: OperationMix([(.read, 0.5), (.readModifyWrite, 0.5)])
        case .rawPut: OperationMix([(.update, 1)])
        case .rawGet: OperationMix([(.read, 1)])
        case .mixed: OperationMix([(.read, readRatio), (.update, 1 - readRatio)])
        case .txnTransfer: OperationMix([(.transfer, 1)])
        }
    }

    /// The key distribution used when `--key-dist` is not given (YCSB's `requestdistribution` for A–F).
    public var defaultDistribution: KeyDistribution {
        switch self {
        case .a, .b, .c, .e, .f: .zipfian
        case .d: .latest
        case .rawPut, .rawGet, .mixed, .txnTransfer: .uniform
        }
    }

    /// Whether the workload scans, so drivers of stores without ordered keys must keep a key index.
    public var scans: Bool { self == .e }

    /// Whether the workload works on accounts (balances) rather than records.
    public var usesAccounts: Bool { self == .txnTransfer }

    /// Accepts `a`…`f`, `ycsb-a`, `workloada` and the names of the others.
    ///
    /// - Parameter name: The name as typed (case-insensitive).
    public init?(name: String) {
        var text = name.lowercased()
        if text.hasPrefix("ycsb-") { text.removeFirst(5) }
        if text.hasPrefix("workload") { text.removeFirst(8) }
        self.init(rawValue: text)
    }
}

// MARK: - ExpressibleByArgument

extension Workload: ExpressibleByArgument {
    public init?(argument: String) {
        self.init(name: argument)
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }
}
