extension LogEngine {
    /// Everything recovery rebuilds before the engine takes over.
    struct Recovered {
        var index = LogIndex()
        var files: [UInt64: any LogFile] = [:]
        var fileSizes: [UInt64: Int] = [:]
        var lastSequence: UInt64 = 0
        var report = LogRecoveryReport()
        /// The segment whose data ends the log, and where its next batch goes.
        var newest: (id: UInt64, dataEnd: Int, nonZeroEnd: Int)?
        /// Segment files after the newest one with data: ids of valid empty ones and unfinished ones.
        var emptyAfterNewest: [(id: UInt64, reusable: Bool)] = []
        var highestID: UInt64 = 0
    }

    /// A segment listed a moment ago is gone: a live node removed it while we (read-only) looked.
    struct SegmentVanished: Error {}

    /// Checks every segment of a log directory without opening it for use: every checksum, how the data
    /// ends, and whether the records fit together. Read-only; safe beside a live node.
    ///
    /// - Parameters:
    ///   - directory: The log directory.
    ///   - fileSystem: The file layer.
    /// - Returns: The report; ``LogRecoveryReport/problems`` is empty when the log is sound.
    /// - Throws: ``LogEngineError/Code/io(_:)`` when the directory or a file cannot be read.
    public static func check(directory: String, fileSystem: any LogFileSystem = PosixFileSystem()) throws
        -> LogRecoveryReport
    {
        var options = LogEngineOptions()
        options.readOnly = true
        guard fileSystem.isDirectory(directory) else {
            throw LogEngineError(.io(2), "log directory \(directory) does not exist")
        }
        let recovered = try recover(directory: directory, options: options, fileSystem: fileSystem)
        for file in recovered.files.values { file.close() }
        return recovered.report
    }

    static func recover(directory: String, options: LogEngineOptions, fileSystem: any LogFileSystem) throws -> Recovered {
        var attempts = 0
        while true {
            do {
                return try recoverOnce(directory: directory, options: options, fileSystem: fileSystem)
            } catch is SegmentVanished {
                attempts += 1
                if attempts == 5 {
                    throw LogEngineError(.io(2), "segments of \(directory) keep disappearing while being read")
                }
            }
        }
    }

    private static func recoverOnce(
        directory: String, options: LogEngineOptions, fileSystem: any LogFileSystem
    ) throws -> Recovered {
        var recovered = Recovered()
        let ids = try fileSystem.listDirectory(directory).compactMap(LogFormat.segmentID(fromName:)).sorted()
        recovered.highestID = ids.last ?? 0
        /// Per segment with a valid header: its scan.
        var scans: [(id: UInt64, path: String, size: Int, scan: SegmentScan)] = []
        /// Segments without a valid header, with the explanation.
        var headerless: [(id: UInt64, path: String, problem: String?)] = []
        for id in ids {
            let path = directory + "/" + LogFormat.segmentName(id)
            let file: any LogFile
            do {
                file = try fileSystem.openFile(path, mode: options.readOnly ? .readOnly : .readWrite)
            } catch let error as LogEngineError where error.code == .io(2) && options.readOnly {
                for file in recovered.files.values { file.close() }
                throw SegmentVanished()
            }
            let size = try file.size()
            let bytes = try file.read(at: 0, count: size)
            let check = bytes.withUnsafeBytes { LogFormat.checkSegmentHeader($0, id: id) }
            switch check {
            case .valid:
                let scan = bytes.withUnsafeBytes { raw in
                    SegmentScan(raw, id: id, lastSequence: recovered.lastSequence) { record, location in
                        recovered.index.apply(record, at: location)
                    }
                }
                recovered.lastSequence = scan.lastSequence
                recovered.files[id] = file
                recovered.fileSizes[id] = size
                scans.append((id, path, size, scan))
            case .unfinished:
                file.close()
                // Shorter than a header (its write was cut), or zeros throughout: a preparation that did not finish.
                let unfinished = bytes.count < LogFormat.segmentHeaderSize || bytes.withUnsafeBytes { $0.isZero(0..<$0.count) }
                headerless.append((id, path, unfinished ? nil : "\(path): no segment header, yet data follows"))
            case .invalid(let why):
                file.close()
                headerless.append((id, path, "\(path): \(why)"))
            }
        }

        let newest = scans.last { $0.scan.nonZeroEnd > LogFormat.segmentHeaderSize }
        for entry in headerless {
            if let problem = entry.problem {
                recovered.report.problems.append(problem)
            } else if let newest, entry.id < newest.id {
                recovered.report.problems.append("\(entry.path): an unfinished segment, yet later segments hold data")
            } else {
                recovered.report.emptySegments.append(entry.path)
                recovered.emptyAfterNewest.append((entry.id, false))
            }
        }
        for (id, path, size, scan) in scans {
            let isNewest = id == newest?.id
            switch scan.ending {
            case .clean:
                break
            case .corrupt(let offset, let reason):
                recovered.report.problems.append("\(path) offset \(offset): \(reason)")
            case .interrupted(let offset, let reason) where isNewest:
                recovered.report.interruptedWrite = .init(
                    path: path, offset: offset, discardedBytes: scan.nonZeroEnd - offset, reason: reason)
            case .interrupted(let offset, let reason):
                recovered.report.problems.append(
                    "\(path) offset \(offset): \(reason); an interrupted write can only be the last, but later segments hold data")
            }
            if let newest, id > newest.id {
                recovered.report.emptySegments.append(path)
                recovered.emptyAfterNewest.append((id, size == options.segmentSize))
                recovered.files[id]?.close()
                recovered.files[id] = nil
                recovered.fileSizes[id] = nil
            } else if newest == nil {
                recovered.report.emptySegments.append(path)
                recovered.emptyAfterNewest.append((id, size == options.segmentSize))
                recovered.files[id]?.close()
                recovered.files[id] = nil
                recovered.fileSizes[id] = nil
            } else {
                recovered.report.records += scan.records
                recovered.report.segments.append(
                    .init(id: id, path: path, fileSize: size, dataEnd: scan.dataEnd, records: scan.records,
                          liveBytes: 0))
            }
        }
        recovered.emptyAfterNewest.sort { $0.id < $1.id }
        if let newest { recovered.newest = (newest.id, newest.scan.dataEnd, newest.scan.nonZeroEnd) }
        if let gap = recovered.index.firstGap() { recovered.report.problems.append("\(directory): \(gap)") }
        for i in recovered.report.segments.indices {
            recovered.report.segments[i].liveBytes = recovered.index.live.bySegment[recovered.report.segments[i].id] ?? 0
        }
        recovered.report.batches = Int(recovered.lastSequence)
        return recovered
    }

    /// Picks up writing where the data ends: cuts off an interrupted batch (zeroing it, then a sync), removes
    /// empty segment files after it (the one prepared in advance too: the recovery read it whole, so it is made
    /// again, see `rewriteUnusedTail`), or starts the first segment.
    func openActiveSegment(_ recovered: Recovered) throws {
        guard let preallocator else { return }
        var removed = false
        if let newest = recovered.newest {
            let file = files[newest.id]!
            if recovered.report.interruptedWrite != nil {
                let zeros = [UInt8](repeating: 0, count: newest.nonZeroEnd - newest.dataEnd)
                try file.write(zeros, at: newest.dataEnd)
            }
            // The last batch may be complete in the page cache yet never synced (a kill -9 between its write
            // and its fdatasync): it is about to be applied and served, so make it durable first.
            try file.sync()
            removed = true  // and sync the directory below, in case the segment's name is not durable either
            active = (newest.id, newest.dataEnd, max(options.segmentSize, recovered.fileSizes[newest.id] ?? 0))
            for (id, _) in recovered.emptyAfterNewest {
                try fileSystem.removeFile(segmentPath(id))
                removed = true
            }
            try rewriteUnusedTail(of: file)
        } else {
            // No data anywhere: start in the first reusable empty segment, or a new one after every id seen.
            let reusable = recovered.emptyAfterNewest.first { $0.reusable }
            for (id, _) in recovered.emptyAfterNewest where id != reusable?.id {
                try fileSystem.removeFile(segmentPath(id))
                removed = true
            }
            let id = reusable?.id ?? recovered.highestID + 1
            if reusable == nil { try preallocator.take(id) }
            let file = try fileSystem.openFile(segmentPath(id), mode: .readWrite)
            files[id] = file
            active = (id, LogFormat.segmentHeaderSize, options.segmentSize)
            if reusable != nil { try rewriteUnusedTail(of: file) }
        }
        fileSizes = recovered.fileSizes
        fileSizes[active!.id] = active!.capacity
        if removed { try fileSystem.syncDirectory(directory) }
        preallocator.prepare(active!.id + 1)
    }

    /// Recovery reads a segment whole, which leaves it in large page-cache folios: appends into them would
    /// make each sync write back far more than it wrote (see `SegmentPreallocator`). Drops them and writes
    /// the zeros after the active segment's data again, a page at a time as a new segment has them, then
    /// syncs (the page holding the end of the data is read back by the first append).
    private func rewriteUnusedTail(of file: any LogFile) throws {
        file.dropCachedPages()
        let pageSize = SegmentPreallocator.zeroWriteSize
        let tail = (active!.offset + pageSize - 1) / pageSize * pageSize
        guard tail < active!.capacity else { return }
        try SegmentPreallocator.writeZeros(to: file, from: tail, to: active!.capacity)
        try file.sync()
    }
}
