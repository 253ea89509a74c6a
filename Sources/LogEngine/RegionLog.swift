import Raft

/// The in-memory index of one region's log: where each live entry is, and its term, so that Raft's storage
/// questions (term, first and last index) never touch the files.
struct RegionLog {
    /// Entries up to here are gone; `compactedTerm` is the term at it (Raft asks for the term of
    /// `firstIndex - 1`).
    var compactedIndex: UInt64 = 0
    var compactedTerm: UInt64 = 0
    /// The record that set `compactedIndex` (a compact or reset record), kept live while it is the latest.
    var markerLocation: RecordLocation?
    var hardState: HardState?
    var hardStateLocation: RecordLocation?
    /// Index of `refs[head]`. Equal to `compactedIndex + 1` once recovery has checked the region.
    var first: UInt64 = 1
    /// Live entries from `head` on; the prefix before `head` is dropped lazily.
    var refs: [EntryReference] = []
    var head = 0
    /// Bytes of the live entry records.
    var entryBytes = 0

    var count: Int { refs.count - head }
    /// The last entry's index (`first - 1` when there is none).
    var last: UInt64 { first + UInt64(count) - 1 }

    func reference(at index: UInt64) -> EntryReference? {
        guard index >= first, index < first + UInt64(count) else { return nil }
        return refs[head + Int(index - first)]
    }

    /// Every live record of the region, for segment bookkeeping.
    var liveLocations: [RecordLocation] {
        var locations = refs[head...].map(\.location)
        if let markerLocation { locations.append(markerLocation) }
        if let hardStateLocation { locations.append(hardStateLocation) }
        return locations
    }

    mutating func apply(_ record: LogRecord, at location: RecordLocation, live: inout LiveBytes) {
        switch record {
        case .entry(_, let entry):
            if entry.index <= compactedIndex { return }  // already compacted away: dead on arrival
            if count == 0 || entry.index < first || entry.index > last + 1 {
                // A fresh start, or (only when replaying a segment whose removal was not yet durable) a gap:
                // start over at this entry. Recovery checks afterwards that entries follow the compaction point.
                dropEntries(from: first, live: &live)
                first = entry.index
            } else {
                dropEntries(from: entry.index, live: &live)
            }
            refs.append(EntryReference(term: entry.term, location: location))
            entryBytes += location.size
            live.add(location)
        case .hardState(_, let state):
            live.remove(hardStateLocation)
            hardState = state
            hardStateLocation = location
            live.add(location)
        case .compact(_, let index, let term):
            if index < compactedIndex { return }  // older than the marker in force
            live.remove(markerLocation)
            markerLocation = location
            live.add(location)
            compactedIndex = index
            compactedTerm = term
            dropEntries(through: index, live: &live)
        case .reset(_, let index, let term):
            live.remove(markerLocation)
            markerLocation = location
            live.add(location)
            compactedIndex = index
            compactedTerm = term
            dropEntries(from: first, live: &live)
            first = index + 1
        }
    }

    /// Drops entries `index...` (a new leader overwrote them, or a reset).
    private mutating func dropEntries(from index: UInt64, live: inout LiveBytes) {
        guard count > 0, index <= last else { return }
        let keep = index <= first ? 0 : Int(index - first)
        for ref in refs[(head + keep)...] {
            live.remove(ref.location)
            entryBytes -= ref.location.size
        }
        refs.removeSubrange((head + keep)...)
        if count == 0 {
            refs.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// Drops entries `...index` (compaction).
    private mutating func dropEntries(through index: UInt64, live: inout LiveBytes) {
        if count > 0, index >= first {
            let drop = min(count, Int(index - first + 1))
            for ref in refs[head..<(head + drop)] {
                live.remove(ref.location)
                entryBytes -= ref.location.size
            }
            head += drop
            first += UInt64(drop)
            if count == 0 {
                refs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head > refs.count / 2 {
                refs.removeFirst(head)
                head = 0
            }
        }
        if count == 0 { first = max(first, index + 1) }
    }
}
