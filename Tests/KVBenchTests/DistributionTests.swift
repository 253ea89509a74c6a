import Testing
@testable import KVBench

@Suite("Key distributions", .timeLimit(.minutes(2)))
struct DistributionTests {
    @Test("uniform covers the whole range evenly")
    func uniformIsEven() {
        var chooser = KeyChooser(distribution: .uniform)
        var random = SeededGenerator(seed: 7)
        var buckets = [Int](repeating: 0, count: 100)
        let draws = 200_000
        for _ in 0..<draws {
            let number = chooser.next(count: 1_000, using: &random)
            #expect((0..<1_000).contains(number))
            buckets[number / 10] += 1
        }
        let expected = Double(draws) / 100
        for count in buckets {
            #expect(abs(Double(count) - expected) / expected < 0.08)
        }
    }

    @Test("the plain zipfian generator ranks item 0 first and decays")
    func zipfianRanks() {
        var generator = ZipfianGenerator(itemCount: 1_000)
        var random = SeededGenerator(seed: 3)
        var counts = [Int](repeating: 0, count: 1_000)
        for _ in 0..<100_000 { counts[generator.next(using: &random)] += 1 }
        #expect(counts[0] > counts[1])
        #expect(counts[1] > counts[10])
        #expect(counts[10] > counts[100])
        // P(0) = 1 / zeta(1000, 0.99) ≈ 0.13.
        let zeta = ZipfianGenerator.zeta(from: 0, to: 1_000, theta: 0.99, initial: 0)
        #expect(abs(Double(counts[0]) / 100_000 - 1 / zeta) < 0.01)
    }

    @Test("scrambled zipfian is skewed: a few hot keys take a large share")
    func zipfianIsSkewed() {
        var chooser = KeyChooser(distribution: .zipfian)
        var random = SeededGenerator(seed: 11)
        let count = 10_000
        var counts = [Int](repeating: 0, count: count)
        let draws = 100_000
        for _ in 0..<draws {
            let number = chooser.next(count: count, using: &random)
            #expect((0..<count).contains(number))
            counts[number] += 1
        }
        let sorted = counts.sorted(by: >)
        // The hottest key is rank 0: 1 / 26.47 ≈ 3.8% of draws (uniform would give 0.01%).
        #expect(Double(sorted[0]) / Double(draws) > 0.03)
        // The hottest 1% of keys take well over a tenth of the draws (1% under uniform).
        let top = sorted.prefix(count / 100).reduce(0, +)
        #expect(Double(top) / Double(draws) > 0.15)
        // And the hot keys are scattered, not the first ones.
        let hottest = counts.firstIndex(of: sorted[0])!
        #expect(hottest > 0)
    }

    @Test("latest favours the most recent records and follows inserts")
    func latestFavoursRecent() {
        var chooser = KeyChooser(distribution: .latest)
        var random = SeededGenerator(seed: 5)
        let count = 10_000
        var recent = 0
        let draws = 50_000
        for _ in 0..<draws {
            let number = chooser.next(count: count, using: &random)
            #expect((0..<count).contains(number))
            if number >= count - count / 100 { recent += 1 }
        }
        // zeta(100) / zeta(10 000) ≈ 0.53 of draws land on the newest 1%.
        #expect(Double(recent) / Double(draws) > 0.4)
        // The newest record is the most likely, and it moves with the count.
        var newest = 0
        for _ in 0..<10_000 where chooser.next(count: count + 50, using: &random) == count + 49 { newest += 1 }
        #expect(newest > 500)
    }
}
