import Testing
@testable import KVBench

@Suite("Seeds", .timeLimit(.minutes(2)))
struct SeedTests {
    private func keys(seed: UInt64, stream: Int = 0, distribution: KeyDistribution) -> [Int] {
        var random = SeededGenerator(seed: seed, stream: stream)
        var chooser = KeyChooser(distribution: distribution)
        return (0..<1_000).map { _ in chooser.next(count: 100_000, using: &random) }
    }

    @Test("the same seed gives the same key sequence", arguments: KeyDistribution.allCases)
    func sameSeed(distribution: KeyDistribution) {
        #expect(keys(seed: 42, distribution: distribution) == keys(seed: 42, distribution: distribution))
    }

    @Test("different seeds and different client streams give different sequences", arguments: KeyDistribution.allCases)
    func differentSeed(distribution: KeyDistribution) {
        #expect(keys(seed: 42, distribution: distribution) != keys(seed: 43, distribution: distribution))
        #expect(keys(seed: 42, stream: 0, distribution: distribution) != keys(seed: 42, stream: 1, distribution: distribution))
    }

    @Test("the same seed gives the same operations and keys through the executor")
    func executorSequence() {
        func sequence(seed: UInt64) -> [String] {
            var configuration = BenchmarkConfiguration(workload: .a)
            configuration.seed = seed
            var executor = OperationExecutor(configuration: configuration, keySpace: KeySpace(loaded: 1_000), stream: 0)
            let mix = configuration.workload.mix()
            return (0..<200).map { _ in "\(executor.nextKind(mix: mix)) \(executor.chooseRecord())" }
        }
        #expect(sequence(seed: 9) == sequence(seed: 9))
        #expect(sequence(seed: 9) != sequence(seed: 10))
    }

    @Test("the generator's doubles are in [0, 1)")
    func unitDoubles() {
        var random = SeededGenerator(seed: 1)
        for _ in 0..<10_000 {
            let value = random.nextUnitDouble()
            #expect(value >= 0 && value < 1)
        }
    }
}
