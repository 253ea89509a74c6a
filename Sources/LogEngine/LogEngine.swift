import Raft

/// A node's append-only log: the Raft entries and hard states of every region, in preallocated segment files
/// of checksummed records, so that one `fdatasync` makes a whole round of the store loop durable.
///
/// Opening the engine recovers it: every segment is read, the records of complete batches are replayed into
/// an in-memory index (region → entry positions and terms, hard state, compaction point), and an interrupted
/// last batch is cut off. After that no question about a region's log rescans files; entries come from a
/// per-region cache of recent ones or one `pread` each.
///
/// ```swift
/// let log = try LogEngine(directory: dataDirectory + "/log")
/// var batch = LogBatch()
/// batch.append(region: 1, entries: ready.entries)
/// if let state = ready.hardState { batch.setHardState(region: 1, state) }
/// try log.write(batch)                       // one write + one fdatasync
/// let entries = try log.entries(of: 1, from: 5, to: 9, maxSize: 1 << 20)
/// ```
///
/// Disk use stays bounded: a segment whose records are all superseded (entries compacted or overwritten, a
/// newer hard state) is removed, and when more than ``LogEngineOptions/maxSealedSegments`` are kept the
/// few live records of the oldest are written again at the head so it can go.
///
/// Not thread-safe: one owner (the store loop) calls it. ``statistics`` may be read from anywhere.
public final class LogEngine {
    /// The directory holding the segment files.
    public let directory: String
    /// The options it was opened with.
    public let options: LogEngineOptions
    /// Counters, safe to read from any thread.
    public let statistics = LogStatistics()
    /// What recovery found when the engine was opened.
    public let recovery: LogRecoveryReport

    let fileSystem: any LogFileSystem
    var index: LogIndex
    /// Open files of every segment holding data, for reading entries back.
    var files: [UInt64: any LogFile]
    /// Their sizes (the active one's capacity).
    var fileSizes: [UInt64: Int] = [:]
    /// The segment being written (read-write engines only).
    var active: (id: UInt64, offset: Int, capacity: Int)?
    var nextSequence: UInt64
    var caches: [UInt64: EntryCache] = [:]
    /// Records to write again (at the head of the next batch) so an old segment can be removed: one group per
    /// region, each written within one batch (a group replays a region's whole live state, and half of one
    /// would drop the entries of the other half).
    var pendingRewrites: [[LogRecord]] = []
    /// Sealed segments whose live records were already queued for rewriting.
    var rewritesPlanned: Set<UInt64> = []
    /// The last failure to remove a segment or plan rewrites (retried after each write), or nil.
    public internal(set) var reclaimFailure: LogEngineError?
    /// Regions whose live entries keep an old segment and are too large to rewrite.
    public internal(set) var regionsHoldingOldSegments: Set<UInt64> = []
    var failure: LogEngineError?
    let preallocator: SegmentPreallocator?
    private var closed = false

    /// Opens (creating when missing, unless read-only) the log in `directory` and recovers it.
    ///
    /// - Parameters:
    ///   - directory: The directory of segment files (e.g. `DATA/log`).
    ///   - options: Segment size, rewrite threshold, read-only mode.
    ///   - fileSystem: The file layer; tests pass a simulated one.
    /// - Throws: ``LogEngineError`` with ``LogEngineError/Code/corrupt`` when a record or segment is damaged
    ///   anywhere but the interrupted last batch (the message names the file and offset), or when the records
    ///   do not fit together; ``LogEngineError/Code/io(_:)`` when the files cannot be read or, read-only, the
    ///   directory does not exist.
    public init(
        directory: String, options: LogEngineOptions = LogEngineOptions(),
        fileSystem: any LogFileSystem = PosixFileSystem()
    ) throws {
        precondition(options.segmentSize >= 64 << 10, "segments must be at least 64 KiB")
        var options = options
        // A region's rewrite group is written within one batch, so it must stay well under a batch's bound.
        options.maxRewriteBytesPerRegion = min(options.maxRewriteBytesPerRegion, LogFormat.batchTargetBytes / 2)
        self.directory = directory
        self.options = options
        self.fileSystem = fileSystem
        if !fileSystem.isDirectory(directory) {
            if options.readOnly {
                throw LogEngineError(.io(2), "log directory \(directory) does not exist")
            }
            try fileSystem.makeDirectory(directory)
        }
        let recovered = try Self.recover(directory: directory, options: options, fileSystem: fileSystem)
        if let problem = recovered.report.problems.first {
            for file in recovered.files.values { file.close() }
            throw LogEngineError(.corrupt, problem)
        }
        index = recovered.index
        files = recovered.files
        fileSizes = recovered.fileSizes
        nextSequence = recovered.lastSequence + 1
        recovery = recovered.report
        if options.readOnly {
            preallocator = nil
            active = nil
        } else {
            let preallocator = SegmentPreallocator(
                directory: directory, size: options.segmentSize, fileSystem: fileSystem,
                background: options.prepareSegmentsInBackground)
            self.preallocator = preallocator
            do {
                try openActiveSegment(recovered)
            } catch {
                for file in files.values { file.close() }
                throw error
            }
        }
        refreshFileStatistics()
    }

    deinit {
        close()
    }

    /// Waits for background preparation and closes every file. Idempotent.
    public func close() {
        guard !closed else { return }
        closed = true
        preallocator?.drain()
        for file in files.values { file.close() }
        files = [:]
    }

    // MARK: - Reading

    /// The regions that have anything in the log.
    public var regions: [UInt64] { index.regions.keys.sorted() }

    /// A region's hard state, or nil if none was written.
    public func hardState(of region: UInt64) -> HardState? {
        index.regions[region]?.hardState
    }

    /// The index of a region's first entry still in the log (its compaction point + 1; 1 for a new region).
    public func firstIndex(of region: UInt64) -> UInt64 {
        (index.regions[region]?.compactedIndex ?? 0) + 1
    }

    /// The index of a region's last entry (its compaction point when it has none).
    public func lastIndex(of region: UInt64) -> UInt64 {
        guard let log = index.regions[region] else { return 0 }
        return log.count > 0 ? log.last : log.compactedIndex
    }

    /// A region's compaction point: the index up to which entries are gone, and the term there.
    public func compactionPoint(of region: UInt64) -> (index: UInt64, term: UInt64) {
        guard let log = index.regions[region] else { return (0, 0) }
        return (log.compactedIndex, log.compactedTerm)
    }

    /// Bytes of a region's live entry records.
    public func entryBytes(of region: UInt64) -> Int {
        index.regions[region]?.entryBytes ?? 0
    }

    /// The term of a region's entry at `index`, for `firstIndex - 1 ... lastIndex`.
    ///
    /// - Throws: ``LogEngineError/Code/compacted`` below that range, ``LogEngineError/Code/unavailable`` above.
    public func term(of region: UInt64, at index: UInt64) throws -> UInt64 {
        let log = self.index.regions[region] ?? RegionLog()
        if index == log.compactedIndex { return log.compactedTerm }
        if index < log.compactedIndex {
            throw LogEngineError(.compacted, "region \(region): index \(index) is compacted (up to \(log.compactedIndex))")
        }
        guard let reference = log.reference(at: index) else {
            throw LogEngineError(.unavailable, "region \(region): no entry at index \(index) (last \(lastIndex(of: region)))")
        }
        return reference.term
    }

    /// A region's entries `[low, high)`, stopping once their total ``Raft/Entry/byteSize`` would exceed
    /// `maxSize` (but always at least one).
    ///
    /// - Throws: ``LogEngineError/Code/compacted`` when `low` is below the first index,
    ///   ``LogEngineError/Code/unavailable`` when `high` is past the last index + 1, ``LogEngineError/Code/corrupt``
    ///   or ``LogEngineError/Code/io(_:)`` when a record cannot be read back.
    public func entries(of region: UInt64, from low: UInt64, to high: UInt64, maxSize: Int = .max) throws -> [Entry] {
        let first = firstIndex(of: region)
        let last = lastIndex(of: region)
        if low < first {
            throw LogEngineError(.compacted, "region \(region): index \(low) is compacted (first index \(first))")
        }
        if high > last + 1 {
            throw LogEngineError(.unavailable, "region \(region): entries up to \(high - 1) asked, last is \(last)")
        }
        var result: [Entry] = []
        var size = 0
        var next = low
        while next < high {
            let entry = try self.entry(of: region, at: next)
            size += entry.byteSize
            if !result.isEmpty && size > maxSize { break }
            result.append(entry)
            next += 1
        }
        return result
    }

    private func entry(of region: UInt64, at index: UInt64) throws -> Entry {
        if let cached = caches[region]?.entry(at: index) { return cached }
        guard let reference = self.index.regions[region]?.reference(at: index) else {
            throw LogEngineError(.unavailable, "region \(region): no entry at index \(index)")
        }
        let record = try readRecord(at: reference.location)
        guard case .entry(let owner, let entry) = record, owner == region, entry.index == index else {
            throw LogEngineError(
                .corrupt,
                "\(segmentPath(reference.location.segment)) offset \(reference.location.offset): expected entry "
                    + "\(index) of region \(region), found \(record)")
        }
        return entry
    }

    /// Reads and checks one record.
    func readRecord(at location: RecordLocation) throws -> LogRecord {
        guard let file = files[location.segment] else {
            throw LogEngineError(.corrupt, "segment \(segmentPath(location.segment)) is not open")
        }
        let bytes = try file.read(at: location.offset, count: location.size)
        do {
            let (frame, _) = try bytes.withUnsafeBytes { raw throws(LogRecord.DecodeFailure) in
                try LogRecord.decode(framed: raw)
            }
            guard case .record(let record) = frame else { throw LogRecord.DecodeFailure.malformed("a batch header") }
            return record
        } catch {
            throw LogEngineError(
                .corrupt, "\(file.path) offset \(location.offset): the record no longer checks out (\(error))")
        }
    }

    func segmentPath(_ id: UInt64) -> String {
        directory + "/" + LogFormat.segmentName(id)
    }

    // MARK: - Writing

    /// Makes `batch` durable: written as one batch (split only beyond ``LogFormat/batchTargetBytes``), each
    /// followed by `fdatasync`, then visible to the reading methods. Rewrites planned to free an old segment
    /// go first, and segments that hold nothing live afterwards are removed.
    ///
    /// - Throws: ``LogEngineError/Code/readOnly``; ``LogEngineError/Code/recordTooLarge`` (nothing written);
    ///   ``LogEngineError/Code/io(_:)`` when a write or sync fails — then the engine refuses every later write
    ///   with ``LogEngineError/Code/failed``, because after a failed `fdatasync` nobody knows what is on disk
    ///   until recovery reads it again.
    public func write(_ batch: LogBatch) throws {
        guard !options.readOnly else { throw LogEngineError(.readOnly, "the log \(directory) is open read-only") }
        if let failure { throw LogEngineError(.failed, "the log stopped after an earlier failure: \(failure.message)") }
        guard !batch.isEmpty || !pendingRewrites.isEmpty else { return }
        var units = pendingRewrites.map { $0[...] }
        units.reserveCapacity(units.count + batch.records.count)
        for i in batch.records.indices { units.append(batch.records[i...i]) }
        let chunks = try encodeChunks(units)
        let rewritten = pendingRewrites.reduce(0) { $0 + $1.count }
        pendingRewrites = []
        do {
            for chunk in chunks { try writeChunk(chunk) }
        } catch let error as LogEngineError {
            failure = error
            throw error
        }
        if rewritten > 0 { statistics.recordsRewritten.add(rewritten, ordering: .relaxed) }
        statistics.liveBytes.store(index.live.total, ordering: .relaxed)
        guard files.count > 1 else { return }  // only the active segment: nothing to reclaim
        // The batch is durable now: a failure to reclaim space must not turn it into a failed write. It is
        // retried after the next write.
        reclaimSegments()
        refreshFileStatistics()
    }

    /// Records of one batch: their encoded bytes (room for the batch header first) and where each record
    /// starts in them.
    struct Chunk {
        var bytes: [UInt8]
        var records: [(record: LogRecord, offset: Int, size: Int)]
    }

    /// Encodes the records into batches of about ``LogFormat/batchTargetBytes`` (half a segment when segments
    /// are smaller, so a batch seldom outgrows one), splitting only between `units`.
    private func encodeChunks(_ units: [ArraySlice<LogRecord>]) throws -> [Chunk] {
        let target = min(LogFormat.batchTargetBytes, options.segmentSize / 2)
        var chunks: [Chunk] = []
        var current = Chunk(bytes: [UInt8](repeating: 0, count: LogRecord.batchHeaderSize), records: [])
        let total = units.reduce(0) { sum, unit in sum + unit.reduce(0) { $0 + $1.payloadSize + LogFormat.recordHeaderSize } }
        current.bytes.reserveCapacity(min(total, target) + LogRecord.batchHeaderSize)
        for unit in units {
            let size = unit.reduce(0) { $0 + $1.payloadSize + LogFormat.recordHeaderSize }
            if !current.records.isEmpty && current.bytes.count + size > target {
                chunks.append(current)
                current = Chunk(bytes: [UInt8](repeating: 0, count: LogRecord.batchHeaderSize), records: [])
            }
            for record in unit {
                let start = current.bytes.count
                try record.encode(into: &current.bytes)
                current.records.append((record, start, current.bytes.count - start))
            }
        }
        if !current.records.isEmpty { chunks.append(current) }
        return chunks
    }

    private func writeChunk(_ chunk: Chunk) throws {
        var bytes = chunk.bytes
        var header: [UInt8] = []
        LogRecord.encodeBatchHeader(sequence: nextSequence, length: bytes.count, into: &header)
        bytes.replaceSubrange(0..<header.count, with: header)
        if active!.offset + bytes.count > active!.capacity && active!.offset > LogFormat.segmentHeaderSize {
            try rollSegment()
        }
        let (id, offset, _) = active!
        let file = files[id]!
        try file.write(bytes, at: offset)
        try file.sync()
        statistics.syncs.add(1, ordering: .relaxed)
        statistics.batches.add(1, ordering: .relaxed)
        statistics.bytesWritten.add(bytes.count, ordering: .relaxed)
        active!.offset += bytes.count
        active!.capacity = max(active!.capacity, active!.offset)
        fileSizes[id] = active!.capacity
        nextSequence += 1
        for (record, start, size) in chunk.records {
            index.apply(record, at: RecordLocation(segment: id, offset: offset + start, size: size))
            cacheWritten(record)
        }
    }

    private func cacheWritten(_ record: LogRecord) {
        switch record {
        case .entry(let region, let entry):
            caches[region, default: EntryCache()].append(entry, limit: options.entryCacheBytesPerRegion)
        case .compact(let region, let index, _):
            caches[region]?.drop(through: index)
        case .reset(let region, _, _):
            caches[region]?.clear()
        case .hardState:
            break
        }
    }

    /// Seals the active segment and continues in the next one, prepared in the background.
    private func rollSegment() throws {
        let next = active!.id + 1
        try preallocator!.take(next)
        files[next] = try fileSystem.openFile(segmentPath(next), mode: .readWrite)
        active = (next, LogFormat.segmentHeaderSize, options.segmentSize)
        fileSizes[next] = options.segmentSize
        preallocator!.prepare(next + 1)
        refreshFileStatistics()
    }

    func refreshFileStatistics() {
        // The segment prepared ahead counts too: it is on disk.
        let prepared = active != nil && options.prepareSegmentsInBackground ? 1 : 0
        statistics.segmentFiles.store(files.count + prepared, ordering: .relaxed)
        statistics.diskBytes.store(fileSizes.values.reduce(0, +) + prepared * options.segmentSize, ordering: .relaxed)
        statistics.liveBytes.store(index.live.total, ordering: .relaxed)
    }
}

// MARK: - Sendable

// One owner calls the engine (the store loop); `statistics` is atomic and the preallocator locks its state.
extension LogEngine: @unchecked Sendable {}
