import Raft

/// Where a record lies: its segment, its offset in the file and its framed size.
struct RecordLocation: Hashable, Sendable {
    var segment: UInt64
    var offset: Int
    var size: Int
}

/// One live entry: its term and its record.
struct EntryReference: Sendable {
    var term: UInt64
    var location: RecordLocation
}

/// Bytes of live records per segment; a segment at zero holds nothing anyone needs.
struct LiveBytes {
    var bySegment: [UInt64: Int] = [:]
    /// The sum over every segment.
    var total = 0

    mutating func add(_ location: RecordLocation) {
        bySegment[location.segment, default: 0] += location.size
        total += location.size
    }

    mutating func remove(_ location: RecordLocation?) {
        guard let location else { return }
        bySegment[location.segment, default: 0] -= location.size
        total -= location.size
    }
}

/// Every region's log index plus the live bytes of each segment, maintained by applying records in log
/// order. Recovery and the writer apply records through the same ``apply(_:at:)``, so they agree.
struct LogIndex {
    var regions: [UInt64: RegionLog] = [:]
    var live = LiveBytes()

    /// Applies one record found (or just written) at `location`.
    mutating func apply(_ record: LogRecord, at location: RecordLocation) {
        regions[record.region, default: RegionLog()].apply(record, at: location, live: &live)
    }

    /// The first region whose entries do not start right after its compaction point, as an explanation.
    func firstGap() -> String? {
        for (id, region) in regions.sorted(by: { $0.key < $1.key }) where region.count > 0 {
            if region.first != region.compactedIndex + 1 {
                return "region \(id): its entries start at index \(region.first) but its log is compacted only to "
                    + "\(region.compactedIndex); the records in between are missing"
            }
        }
        return nil
    }
}
