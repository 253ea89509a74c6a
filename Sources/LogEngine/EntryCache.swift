import Raft

/// A region's most recent entries, kept in memory so that Raft (committed entries on a follower, appends to
/// a follower that is slightly behind) seldom reads them back from the files.
struct EntryCache {
    /// Index of `entries[0]`.
    private(set) var first: UInt64 = 0
    private(set) var entries: [Entry] = []
    private var head = 0
    private var bytes = 0

    var count: Int { entries.count - head }

    /// The cached entry at `index`, if any.
    func entry(at index: UInt64) -> Entry? {
        guard count > 0, index >= first, index < first + UInt64(count) else { return nil }
        return entries[head + Int(index - first)]
    }

    /// Adds an entry just written: it replaces cached entries from its index on.
    mutating func append(_ entry: Entry, limit: Int) {
        if count > 0 && entry.index >= first && entry.index <= first + UInt64(count) {
            let keep = head + Int(entry.index - first)
            for dropped in entries[keep...] { bytes -= dropped.byteSize }
            entries.removeSubrange(keep...)
        } else {
            entries.removeAll(keepingCapacity: true)
            head = 0
            bytes = 0
            first = entry.index
        }
        entries.append(entry)
        bytes += entry.byteSize
        while bytes > limit && count > 1 { dropFirst() }
    }

    /// Forgets entries up to `index`.
    mutating func drop(through index: UInt64) {
        while count > 0 && first <= index { dropFirst() }
    }

    /// Forgets everything.
    mutating func clear() {
        self = EntryCache()
    }

    private mutating func dropFirst() {
        bytes -= entries[head].byteSize
        head += 1
        first += 1
        if head > 256 && head > entries.count / 2 {
            entries.removeFirst(head)
            head = 0
        }
    }
}
