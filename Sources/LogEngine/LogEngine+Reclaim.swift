extension LogEngine {
    /// After a write: removes the oldest sealed segments while they hold nothing live, and when too many
    /// sealed segments remain, plans rewrites of the oldest one's live records (written at the head of the
    /// next batch).
    ///
    /// Only the oldest segment is ever removed, one at a time with a directory sync after each, so the
    /// segments left always form a *suffix* of the log. That matters: a dead record can still shape how later
    /// records replay (an entry overwritten later once filled the gap before its successor), so removing a
    /// dead segment from the middle could make replay differ from the live index. Replaying any suffix that
    /// starts after a segment boundary gives the live state: every record still needed is live, so it lies in
    /// the suffix, and the records before the suffix can only have affected what came before them.
    ///
    /// Removal happens only here, after a synced write, so every record that made a segment's contents dead
    /// (a compaction point, a newer hard state, rewritten entries) is durable before the segment goes. If a
    /// removal is lost in a crash, the segment comes back: replay then starts one segment earlier, which is
    /// also a suffix.
    ///
    /// Failures (a file that cannot be removed, an entry that cannot be read back for a rewrite) are kept in
    /// ``reclaimFailure`` and tried again after the next write; they never fail the write that came before.
    func reclaimSegments() {
        guard let active else { return }
        do {
            while let oldest = files.keys.min(), oldest < active.id, (index.live.bySegment[oldest] ?? 0) <= 0 {
                try fileSystem.removeFile(segmentPath(oldest))
                files[oldest]!.close()
                files[oldest] = nil
                fileSizes[oldest] = nil
                index.live.bySegment[oldest] = nil
                rewritesPlanned.remove(oldest)
                statistics.segmentsRemoved.add(1, ordering: .relaxed)
                try fileSystem.syncDirectory(directory)  // removals become durable in order
            }

            let sealed = files.keys.filter { $0 < active.id }.sorted()
            if sealed.count > options.maxSealedSegments, pendingRewrites.isEmpty, let oldest = sealed.first,
               !rewritesPlanned.contains(oldest)
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
        var groups: [[LogRecord]] = []
        var holding: Set<UInt64> = []
        for (region, log) in index.regions.sorted(by: { $0.key < $1.key }) {
            var records: [LogRecord] = []
            defer { if !records.isEmpty { groups.append(records) } }
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
        pendingRewrites = groups
        rewritesPlanned.insert(id)
    }
}
