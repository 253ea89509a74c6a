import Linearizability

/// A small, fast, seedable generator so randomized tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}

/// Generates histories of clients talking to a store that really is linearizable:
/// every operation takes effect atomically at a random instant between its invocation
/// and completion. Unknown-outcome writes and deletes take effect at a random instant
/// after invocation (possibly after the client gave up) or not at all.
enum SimulatedStore {
    /// - Parameter distinctValues: how many different values writes choose from;
    ///   `nil` gives every write a value of its own.
    static func history(
        seed: UInt64, clients: Int, operationCount: Int, keyCount: Int, unknownRate: Double,
        distinctValues: Int? = nil, deleteRate: Double = 0.1
    ) -> [StoreOperation] {
        var random = SplitMix64(seed: seed)
        var clocks = (0..<clients).map { _ in UInt64.random(in: 0...1_000, using: &random) }

        struct Planned {
            var client: Int
            var key: ByteString
            var kind: StoreOperation.Kind
            var invokeTime: UInt64
            var completeTime: UInt64?
            /// When the operation takes effect in the simulated store; `nil`: never.
            var effectTime: UInt64?
        }

        var planned: [Planned] = []
        for index in 0..<operationCount {
            // The client that is free earliest issues the next operation, so clients interleave.
            let client = clocks.indices.min { (clocks[$0], $0) < (clocks[$1], $1) }!
            let invokeTime = clocks[client]
            let latency = UInt64.random(in: 1_000...200_000, using: &random)
            let completeTime = invokeTime + latency
            let key = ByteString("k\(Int.random(in: 0..<keyCount, using: &random))")
            let roll = Double.random(in: 0..<1, using: &random)
            let value = ByteString("v\(distinctValues.map { Int.random(in: 0..<$0, using: &random) } ?? index)")
            let kind: StoreOperation.Kind = roll < 0.5 ? .read(observed: nil) : roll < 1 - deleteRate ? .write(value) : .delete
            let isUnknown = Double.random(in: 0..<1, using: &random) < unknownRate

            let effectTime: UInt64?
            switch (isUnknown, kind) {
            case (false, _):
                effectTime = invokeTime + UInt64.random(in: 0...latency, using: &random)
            case (true, .read):
                effectTime = nil
            case (true, _):
                effectTime = Bool.random(using: &random)
                    ? invokeTime + UInt64.random(in: 0...(3 * latency), using: &random)
                    : nil
            }
            planned.append(Planned(client: client, key: key, kind: kind, invokeTime: invokeTime,
                                   completeTime: isUnknown ? nil : completeTime, effectTime: effectTime))
            clocks[client] = completeTime + UInt64.random(in: 0...50_000, using: &random)
        }

        var store: [ByteString: ByteString] = [:]
        let effectOrder = planned.indices
            .filter { planned[$0].effectTime != nil }
            .sorted { (planned[$0].effectTime!, $0) < (planned[$1].effectTime!, $1) }
        for index in effectOrder {
            let key = planned[index].key
            switch planned[index].kind {
            case .read: planned[index].kind = .read(observed: store[key])
            case .write(let value): store[key] = value
            case .delete: store[key] = nil
            }
        }

        return planned.map {
            StoreOperation(client: $0.client, key: $0.key, kind: $0.kind, invokeTime: $0.invokeTime,
                      outcome: StoreOperation.Outcome(completedAt: $0.completeTime))
        }
    }
}

extension StoreOperation {
    /// The same operation with a read's observed value replaced.
    func observing(_ value: ByteString?) -> StoreOperation {
        StoreOperation(client: client, key: key, kind: .read(observed: value), invokeTime: invokeTime, outcome: outcome)
    }

    var isCompletedRead: Bool {
        if case .read = kind, completeTime != nil { true } else { false }
    }
}
