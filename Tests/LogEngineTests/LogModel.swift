import LogEngine
import Raft

/// A reference model of what the log should hold, written independently of the engine's index: per region,
/// the compaction point, the entries after it and the hard state.
struct LogModel: Equatable {
    struct Region: Equatable {
        var compactedIndex: UInt64 = 0
        var compactedTerm: UInt64 = 0
        var entries: [Entry] = []
        var hardState: HardState?

        var lastIndex: UInt64 { entries.last?.index ?? compactedIndex }
        var isEmpty: Bool { compactedIndex == 0 && entries.isEmpty && hardState == nil }

        func term(at index: UInt64) -> UInt64 {
            index == compactedIndex ? compactedTerm : entries[Int(index - compactedIndex - 1)].term
        }
    }

    var regions: [UInt64: Region] = [:]

    mutating func apply(_ batch: LogBatch) {
        for record in batch.records { apply(record) }
    }

    mutating func apply(_ record: LogRecord) {
        var region = regions[record.region] ?? Region()
        switch record {
        case .entry(_, let entry):
            if entry.index > region.compactedIndex {
                region.entries.removeAll { $0.index >= entry.index }
                precondition(entry.index == region.lastIndex + 1, "the generator made a gap")
                region.entries.append(entry)
            }
        case .hardState(_, let state):
            region.hardState = state
        case .compact(_, let index, let term):
            if index >= region.compactedIndex {
                region.entries.removeAll { $0.index <= index }
                region.compactedIndex = index
                region.compactedTerm = term
            }
        case .reset(_, let index, let term):
            region.entries = []
            region.compactedIndex = index
            region.compactedTerm = term
        }
        regions[record.region] = region
    }

    /// The non-empty regions, for comparison.
    var normalized: [UInt64: Region] { regions.filter { !$0.value.isEmpty } }

    /// What the engine holds, in model form.
    static func of(_ engine: LogEngine) throws -> LogModel {
        var model = LogModel()
        for id in engine.regions {
            let (index, term) = engine.compactionPoint(of: id)
            let entries = try engine.entries(of: id, from: engine.firstIndex(of: id), to: engine.lastIndex(of: id) + 1)
            model.regions[id] = Region(
                compactedIndex: index, compactedTerm: term, entries: entries, hardState: engine.hardState(of: id))
        }
        return model
    }
}

/// Random batches that follow Raft's shapes: appends at the end, occasional overwrites of a suffix with a
/// higher term, hard states, compactions up to an existing index, rare resets to a snapshot.
struct BatchGenerator {
    var random: SplitMix64
    var terms: [UInt64: UInt64] = [:]
    let regions: [UInt64]
    let maxData: Int

    init(seed: UInt64, regions: [UInt64] = [1, 2, 3], maxData: Int = 300) {
        random = SplitMix64(seed: seed)
        self.regions = regions
        self.maxData = maxData
    }

    mutating func next(after model: LogModel) -> LogBatch {
        var batch = LogBatch()
        var model = model
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let id = regions.randomElement(using: &random)!
            let region = model.regions[id] ?? .init()
            let term = terms[id, default: 1]
            let roll = Int.random(in: 0..<100, using: &random)
            let record: [LogRecord]
            if roll < 55 {
                var start = region.lastIndex + 1
                var entryTerm = term
                if roll < 8 && region.lastIndex > region.compactedIndex {
                    start = UInt64.random(in: (region.compactedIndex + 1)...region.lastIndex, using: &random)
                    entryTerm = term + 1
                    terms[id] = entryTerm
                }
                let count = UInt64.random(in: 1...5, using: &random)
                record = (start..<(start + count)).map { index in
                    let size = Int.random(in: 0...maxData, using: &random)
                    let data = (0..<size).map { _ in UInt8.random(in: 0...255, using: &random) }
                    return .entry(region: id, Entry(term: entryTerm, index: index, data: data))
                }
            } else if roll < 80 {
                let state = HardState(
                    term: term, vote: UInt64.random(in: 0...3, using: &random),
                    commit: UInt64.random(in: region.compactedIndex...region.lastIndex, using: &random))
                record = [.hardState(region: id, state)]
            } else if roll < 97 {
                guard region.lastIndex > region.compactedIndex else { continue }
                let index = UInt64.random(in: region.compactedIndex...region.lastIndex, using: &random)
                record = [.compact(region: id, index: index, term: region.term(at: index))]
            } else {
                let index = region.lastIndex + UInt64.random(in: 0...5, using: &random)
                let newTerm = term + 1
                terms[id] = newTerm
                record = [.reset(region: id, index: index, term: newTerm)]
            }
            for r in record {
                batch.add(r)
                model.apply(r)
            }
        }
        return batch
    }
}
