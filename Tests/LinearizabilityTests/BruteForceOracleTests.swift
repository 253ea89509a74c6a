import Linearizability
import XCTest

/// Compares the checker with an obviously correct exhaustive search on many small
/// histories. The checker prunes its search with register-specific shortcuts; a
/// wrong shortcut shows up here as a disagreement.
final class BruteForceOracleTests: XCTestCase {
    /// Arbitrary histories: values reused, ties common, mostly not linearizable.
    func testAgreesOnRandomHistories() {
        var random = SplitMix64(seed: 2024)
        assertAgreement(rounds: 5_000) { randomHistory(using: &random) }
    }

    /// Histories of a correct store with one read possibly corrupted, so verdicts sit
    /// close to the boundary; with few distinct values, deletes and unknown outcomes.
    func testAgreesNearTheBoundary() {
        var random = SplitMix64(seed: 4242)
        var round = 0
        assertAgreement(rounds: 15_000) {
            round += 1
            var history = SimulatedStore.history(
                seed: random.next(), clients: Int.random(in: 2...5, using: &random),
                operationCount: Int.random(in: 3...11, using: &random), keyCount: 1,
                unknownRate: [0.0, 0.15, 0.3][round % 3], distinctValues: Int.random(in: 1...4, using: &random),
                deleteRate: [0.1, 0.3, 0.5][round % 3])
            let reads = history.indices.filter { history[$0].isCompletedRead }
            if Bool.random(using: &random), let victim = reads.randomElement(using: &random) {
                let value: ByteString? = Int.random(in: 0..<4, using: &random) == 0
                    ? nil : "v\(Int.random(in: 0..<4, using: &random))"
                history[victim] = history[victim].observing(value)
            }
            return history
        }
    }

    private func assertAgreement(rounds: Int, _ makeHistory: () -> [StoreOperation]) {
        var verdicts = (linearizable: 0, notLinearizable: 0)
        for round in 0..<rounds {
            let history = makeHistory()
            let expected = Self.isLinearizable(history)
            switch LinearizabilityChecker().check(History(history)) {
            case .linearizable:
                verdicts.linearizable += 1
                XCTAssertTrue(expected, "round \(round), wrongly linearizable:\n\(History(history).text)")
            case .notLinearizable(let violation):
                verdicts.notLinearizable += 1
                XCTAssertFalse(expected, "round \(round), wrongly not linearizable:\n\(History(history).text)")
                XCTAssertFalse(Self.isLinearizable(violation.operations), "round \(round): \(violation)")
            case .unknown(let reason):
                XCTFail("round \(round): \(reason)")
            }
        }
        // Both verdicts must be well represented for the comparison to mean anything.
        XCTAssertGreaterThan(verdicts.linearizable, rounds / 5)
        XCTAssertGreaterThan(verdicts.notLinearizable, rounds / 5)
    }

    private func randomHistory(using random: inout SplitMix64) -> [StoreOperation] {
        let values: [ByteString] = ["a", "b", "c"]
        let clientCount = Int.random(in: 1...4, using: &random)
        var clocks = Array(repeating: UInt64(0), count: clientCount)
        var history: [StoreOperation] = []
        for _ in 0..<Int.random(in: 1...8, using: &random) {
            let client = Int.random(in: 0..<clientCount, using: &random)
            // Coarse times make ties between invocations and completions common.
            let invokeTime = clocks[client] + UInt64.random(in: 0...2, using: &random)
            let completeTime = invokeTime + UInt64.random(in: 0...4, using: &random)
            clocks[client] = completeTime
            let completedAt = Int.random(in: 0..<6, using: &random) == 0 ? nil : completeTime
            let operation: StoreOperation = switch Int.random(in: 0..<10, using: &random) {
            case 0..<5:
                .read(client: client, key: "k", observed: ([nil] + values).randomElement(using: &random)!,
                      invokedAt: invokeTime, completedAt: completedAt)
            case 5..<9:
                .write(client: client, key: "k", value: values.randomElement(using: &random)!,
                       invokedAt: invokeTime, completedAt: completedAt)
            default:
                .delete(client: client, key: "k", invokedAt: invokeTime, completedAt: completedAt)
            }
            history.append(operation)
        }
        return history
    }

    /// Tries every order of the operations that respects real time, memoizing failed
    /// (remaining operations, value) pairs. Unknown-outcome operations may be left
    /// out; unknown reads constrain nothing. Single key, up to 64 operations.
    private static func isLinearizable(_ history: [StoreOperation]) -> Bool {
        let operations = history.filter {
            if case .read = $0.kind { $0.completeTime != nil } else { true }
        }
        var valueNumbers: [ByteString?: Int] = [:]
        var failed = Set<[Int]>()
        func search(_ remaining: UInt64, _ value: ByteString?) -> Bool {
            let pending = operations.indices.filter { remaining & (1 << $0) != 0 }
            if pending.allSatisfy({ operations[$0].completeTime == nil }) { return true }
            let valueNumber = valueNumbers[value] ?? valueNumbers.count
            valueNumbers[value] = valueNumber
            let memoKey = [Int(truncatingIfNeeded: remaining), valueNumber]
            if failed.contains(memoKey) { return false }
            for index in pending {
                let operation = operations[index]
                let mustWait = pending.contains { other in
                    operations[other].completeTime.map { $0 < operation.invokeTime } ?? false
                }
                if mustWait { continue }
                let rest = remaining & ~(1 << index)
                switch operation.kind {
                case .read(let observed):
                    if observed == value, search(rest, value) { return true }
                case .write(let written):
                    if search(rest, written) { return true }
                case .delete:
                    if search(rest, nil) { return true }
                }
            }
            failed.insert(memoKey)
            return false
        }
        return search(operations.isEmpty ? 0 : UInt64.max >> (64 - operations.count), nil)
    }
}
