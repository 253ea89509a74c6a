/// Faults a test asks a node to inject into its outgoing Raft traffic (`FAULT`, refused unless the node runs
/// with `--enable-fault-injection`). Each `FAULT` replaces the previous settings; `FAULT` alone heals.
public struct FaultInjection: Sendable, Hashable {
    /// The fraction of outgoing Raft messages dropped, 0...1.
    public var dropRate: Double
    /// Each outgoing batch is held back by a random delay up to this many milliseconds.
    public var maxDelayMilliseconds: UInt64
    /// Stores this node neither sends to nor accepts Raft messages from (a partition).
    public var isolatedStores: Set<UInt64>

    /// No faults.
    public init(dropRate: Double = 0, maxDelayMilliseconds: UInt64 = 0, isolatedStores: Set<UInt64> = []) {
        self.dropRate = dropRate
        self.maxDelayMilliseconds = maxDelayMilliseconds
        self.isolatedStores = isolatedStores
    }

    var fields: ProtocolFields {
        var fields = ProtocolFields()
        fields.append("drop", String(dropRate))
        fields.append("delay_ms", maxDelayMilliseconds)
        fields.append("isolate", isolatedStores.sorted().map(String.init).joined(separator: ","))
        return fields
    }

    init(fields: ProtocolFields) throws(ProtocolError) {
        let dropText = fields["drop"].map { String(decoding: $0, as: UTF8.self) } ?? "0"
        guard let drop = Double(dropText), (0...1).contains(drop) else {
            throw ProtocolError(.badArgument, "drop= must be a fraction from 0 to 1")
        }
        let delay = try fields.number("delay_ms", default: 0)
        guard delay <= 10_000 else { throw ProtocolError(.badArgument, "delay_ms= must be at most 10000") }
        var isolated = Set<UInt64>()
        for item in (fields["isolate"].map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: ",") {
            guard let store = UInt64(item) else { throw ProtocolError(.badArgument, "isolate= must list store ids") }
            isolated.insert(store)
        }
        self.init(dropRate: drop, maxDelayMilliseconds: delay, isolatedStores: isolated)
    }
}
