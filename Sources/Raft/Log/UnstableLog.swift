/// The tail of the log that has not been persisted yet: entries (and possibly a snapshot) handed to the
/// caller through ``Ready`` and not yet acknowledged by ``RaftNode/advance(_:)``.
struct UnstableLog {
    /// A snapshot received from the leader and not yet persisted.
    var snapshot: Snapshot?
    /// Entries not yet persisted; `entries[i].index == offset + i`.
    var entries: [Entry]
    /// Index of `entries[0]` (or where it would be). Invariant: `offset == snapshot.index + 1` when a
    /// snapshot is pending, and `offset <= storage.lastIndex() + 1`.
    var offset: UInt64

    init(offset: UInt64) {
        snapshot = nil
        entries = []
        self.offset = offset
    }

    /// First index, known only when a snapshot is pending.
    var maybeFirstIndex: UInt64? {
        snapshot.map { $0.metadata.index + 1 }
    }

    /// Last index, known if there are entries or a pending snapshot.
    var maybeLastIndex: UInt64? {
        if !entries.isEmpty { return offset + UInt64(entries.count) - 1 }
        return snapshot?.metadata.index
    }

    /// Term of `index` if this part of the log knows it.
    func maybeTerm(_ index: UInt64) -> UInt64? {
        if index < offset {
            if let snapshot, snapshot.metadata.index == index { return snapshot.metadata.term }
            return nil
        }
        guard let last = maybeLastIndex, index <= last else { return nil }
        return entries[Int(index - offset)].term
    }

    /// Entries `[low, high)`, which must lie within `offset ... last + 1`.
    func slice(_ low: UInt64, _ high: UInt64) -> [Entry] {
        precondition(low >= offset && high <= offset + UInt64(entries.count) && low <= high,
                     "unstable slice [\(low), \(high)) out of [\(offset), \(offset + UInt64(entries.count)))")
        return Array(entries[Int(low - offset)..<Int(high - offset)])
    }

    /// Marks entries up to (`index`, `term`) as persisted. Ignored if the entry was since replaced (its term
    /// differs) or is not in this part of the log.
    mutating func stableTo(index: UInt64, term: UInt64) {
        guard let t = maybeTerm(index), t == term, index >= offset else { return }
        entries.removeFirst(Int(index - offset + 1))
        offset = index + 1
    }

    /// Marks the pending snapshot at `index` as persisted.
    mutating func stableSnapshotTo(index: UInt64) {
        if let snapshot, snapshot.metadata.index == index {
            self.snapshot = nil
        }
    }

    /// Replaces everything by a snapshot.
    mutating func restore(_ snapshot: Snapshot) {
        offset = snapshot.metadata.index + 1
        entries = []
        self.snapshot = snapshot
    }

    /// Appends `newEntries`, first dropping any entries at or after `newEntries[0].index`.
    mutating func truncateAndAppend(_ newEntries: [Entry]) {
        guard let after = newEntries.first?.index else { return }
        if after == offset + UInt64(entries.count) {
            entries.append(contentsOf: newEntries)
        } else if after <= offset {
            // The new entries replace everything unstable, and shadow any stored entries from `after` on;
            // the caller's storage truncates those when it persists them.
            offset = after
            entries = newEntries
        } else {
            entries.removeSubrange(Int(after - offset)...)
            entries.append(contentsOf: newEntries)
        }
    }
}

// MARK: - Equatable

extension UnstableLog: Equatable {}
