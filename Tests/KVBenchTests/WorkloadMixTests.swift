import Testing
@testable import KVBench

@Suite("Workload mixes", .timeLimit(.minutes(2)))
struct WorkloadMixTests {
    static let expected: [(Workload, [OperationKind: Double])] = [
        (.a, [.read: 0.5, .update: 0.5]),
        (.b, [.read: 0.95, .update: 0.05]),
        (.c, [.read: 1]),
        (.d, [.read: 0.95, .insert: 0.05]),
        (.e, [.scan: 0.95, .insert: 0.05]),
        (.f, [.read: 0.5, .readModifyWrite: 0.5]),
        (.rawPut, [.update: 1]),
        (.rawGet, [.read: 1]),
        (.txnTransfer, [.transfer: 1]),
    ]

    @Test("drawn mixes match the YCSB ratios within 1%", arguments: 0..<expected.count)
    func mixMatches(index: Int) {
        let (workload, shares) = Self.expected[index]
        let mix = workload.mix()
        var random = SeededGenerator(seed: 21)
        var counts: [OperationKind: Int] = [:]
        let draws = 100_000
        for _ in 0..<draws { counts[mix.next(using: &random), default: 0] += 1 }
        for kind in OperationKind.allCases {
            let share = shares[kind] ?? 0
            #expect(mix.proportion(of: kind) == share)
            #expect(abs(Double(counts[kind] ?? 0) / Double(draws) - share) < 0.01, "\(workload) \(kind)")
        }
    }

    @Test("mixed follows --read-ratio")
    func mixedRatio() {
        let mix = Workload.mixed.mix(readRatio: 0.8)
        var random = SeededGenerator(seed: 2)
        var reads = 0
        for _ in 0..<50_000 where mix.next(using: &random) == .read { reads += 1 }
        #expect(abs(Double(reads) / 50_000 - 0.8) < 0.01)
        #expect(Workload.mixed.mix(readRatio: 1).proportion(of: .update) == 0)
    }

    @Test("workload names and default distributions")
    func names() {
        #expect(Workload(name: "A") == .a)
        #expect(Workload(name: "ycsb-e") == .e)
        #expect(Workload(name: "workloadf") == .f)
        #expect(Workload(name: "raw-put") == .rawPut)
        #expect(Workload(name: "g") == nil)
        #expect(Workload.d.defaultDistribution == .latest)
        #expect(Workload.a.defaultDistribution == .zipfian)
        #expect(Workload.rawGet.defaultDistribution == .uniform)
    }
}
