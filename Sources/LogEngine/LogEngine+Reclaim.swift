extension LogEngine {
    /// After a write: removes sealed segments that hold nothing live, and when too many sealed segments
    /// remain, plans rewrites of the oldest one's live records (written at the head of the next batch).
    ///
    /// Removal happens only here, after a synced write, so every record that made a segment's contents dead
    /// (a compaction point, a newer hard state, rewritten entries) is durable before the segment goes. If a
    /// removal itself is lost in a crash the segment comes back, and replaying it first is harmless: every
    /// later record still applies over it.
    ///
    /// Failures (a file that cannot be removed, an entry that cannot be read back for a rewrite) are kept in
    /// ``reclaimFailure`` and tried again after the next write; they never fail the write that came before.
    func reclaimSegments() {
        guard let active else { return }
        do {
            var removed = false
            for id in files.keys.sorted() where id < active.id && (index.live.bySegment[id] ?? 0) <= 0 {
                try fileSystem.removeFile(segmentPath(id))
                files[id]!.close()
                files[id] = nil
                fileSizes[id] = nil
                index.live.bySegment[id] = nil
                rewritesPlanned.remove(id)
                statistics.segmentsRemoved.add(1, ordering: .relaxed)
                removed = true
            }
            if removed { try fileSystem.syncDirectory(directory) }

            let sealed = files.keys.filter { $0 < active.id }.sorted()
            if sealed.count > options.maxSealedSegments, pendingRewrites.isEmpty,
               let oldest = sealed.first(where: { !rewritesPlanned.contains($0) })
            {
                try planRewrites(of: oldest)
            }
            reclaimFailure = nil
        } catch let error as LogEngineError {
            reclaimFailure = error
        } catch {
            reclaimFailure = LogEngineError(.io(0), "reclaiming log segments: \(error)")
        }
    }

    /// Queues the live records of segment `id` (every record of each region that has one there) to be written
    /// again, so that the segment holds nothing live once they are durable.
    private func planRewrites(of id: UInt64) throws {
        var records: [LogRecord] = []
        var holding: Set<UInt64> = []
        for (region, log) in index.regions.sorted(by: { $0.key < $1.key }) {
            let entriesThere = log.refs[log.head...].contains { $0.location.segment <= id }
            let touches = entriesThere || (log.markerLocation.map { $0.segment <= id } ?? false)
                || (log.hardStateLocation.map { $0.segment <= id } ?? false)
            guard touches else { continue }
            if log.markerLocation != nil {
                records.append(.compact(region: region, index: log.compactedIndex, term: log.compactedTerm))
            }
            if entriesThere {
                if log.entryBytes <= options.maxRewriteBytesPerRegion {
                    for entry in try entries(of: region, from: log.first, to: log.last + 1) {
                        records.append(.entry(region: region, entry))
                    }
                } else {
                    holding.insert(region)
                }
            }
            if let state = log.hardState { records.append(.hardState(region: region, state)) }
        }
        regionsHoldingOldSegments = holding
        pendingRewrites = records
        rewritesPlanned.insert(id)
    }
}
