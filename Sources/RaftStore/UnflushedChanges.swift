/// Everything applied but not yet durable in LMDB, as layers newest first: the `active` ones still growing
/// round by round, then the `flushing` ones being written to LMDB in the background.
///
/// A value type holding immutable layers: the store publishes a new value after each round, and a reader
/// copies the current one (two array retains) and reads it alongside an LMDB snapshot taken *after* the copy.
/// The flusher commits to LMDB *before* the store drops the flushed layers, so a reader sees every applied
/// write once or twice (the same value both times), never zero times.
struct UnflushedChanges: Sendable {
    /// Layers of recent rounds, newest first; sizes grow towards the end (logarithmic merging).
    private(set) var active: [ChangeLayer] = []
    /// Layers being written to LMDB, newest first.
    private(set) var flushing: [ChangeLayer] = []

    var isEmpty: Bool { active.isEmpty && flushing.isEmpty }
    var activeBytes: Int { active.reduce(0) { $0 + $1.byteCount } }
    var flushingBytes: Int { flushing.reduce(0) { $0 + $1.byteCount } }
    var byteCount: Int { activeBytes + flushingBytes }

    /// Every layer, newest first.
    var layers: [ChangeLayer] { active + flushing }

    func lookup(_ key: [UInt8]) -> ChangeLayer.Lookup {
        for layer in active {
            let found = layer.lookup(key)
            if found != .unchanged { return found }
        }
        for layer in flushing {
            let found = layer.lookup(key)
            if found != .unchanged { return found }
        }
        return .unchanged
    }

    /// Adds the newest layer, then merges neighbours of similar size so that there are O(log n) layers and
    /// each pair is copied O(log n) times.
    mutating func push(_ layer: ChangeLayer) {
        guard layer.count > 0 else { return }
        active.insert(layer, at: 0)
        while active.count >= 2 && active[0].count * 2 >= active[1].count {
            let merged = ChangeLayer.merge(newer: active[0], older: active[1])
            active.replaceSubrange(0...1, with: [merged])
        }
    }

    /// Moves the active layers to the flushing side and returns them oldest first, the order to write them.
    mutating func beginFlush() -> [ChangeLayer] {
        precondition(flushing.isEmpty, "one flush at a time")
        flushing = active
        active = []
        return flushing.reversed()
    }

    /// Drops the flushing layers: LMDB holds them now.
    mutating func endFlush() {
        flushing = []
    }
}
