/// Reads the batches of one segment's bytes, hands over the records of each complete batch, and says how the
/// segment ends.
///
/// The caller decides what the ending means: only the newest segment holding data may end in an interrupted
/// batch (``Ending/interrupted(at:reason:)``); anywhere else that is corruption.
struct SegmentScan {
    /// How a segment's data ends.
    enum Ending: Equatable {
        /// Every batch is complete and only zeros follow the last one.
        case clean
        /// The last batch, starting at `at`, is incomplete: a write the crash interrupted. Nothing after it
        /// checks out, and it is within reach of one batch.
        case interrupted(at: Int, reason: String)
        /// A damaged record at `at` that an interrupted write cannot explain.
        case corrupt(at: Int, reason: String)
    }

    /// Offset after the last complete batch (where the next write goes, if this is the newest segment).
    var dataEnd: Int
    /// One past the last non-zero byte of the file (equal to `dataEnd` when the ending is clean).
    var nonZeroEnd: Int
    var ending: Ending
    /// Records in complete batches.
    var records = 0
    /// The sequence number of the last complete batch.
    var lastSequence: UInt64

    /// Scans `bytes`, the whole file of segment `id`, calling `apply` for each record of each complete batch in
    /// order. `lastSequence` is the highest batch sequence of earlier segments; batches must exceed it.
    init(
        _ bytes: UnsafeRawBufferPointer, id: UInt64, lastSequence: UInt64,
        apply: (LogRecord, RecordLocation) -> Void
    ) {
        self.lastSequence = lastSequence
        var offset = LogFormat.segmentHeaderSize
        dataEnd = offset
        nonZeroEnd = offset
        ending = .clean
        /// Records of the batch being read, applied once it is complete.
        var pending: [(LogRecord, RecordLocation)] = []
        var batch: (start: Int, end: Int, sequence: UInt64)?

        while true {
            if let open = batch, offset == open.end {
                for (record, location) in pending { apply(record, location) }
                records += pending.count
                pending.removeAll(keepingCapacity: true)
                self.lastSequence = open.sequence
                dataEnd = offset
                batch = nil
            }
            guard offset < bytes.count else { break }
            let failure: String
            /// Whether the failure is one a torn write can produce (a frame that does not check out). A frame
            /// whose checksum holds but which makes no sense here was written that way: corruption, or a newer
            /// format, never an interrupted write.
            var tearable = false
            do throws(LogRecord.DecodeFailure) {
                let (frame, size) = try LogRecord.decode(framed: UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                switch frame {
                case .batchHeader(let sequence, let length):
                    if batch != nil {
                        failure = "a batch header inside the batch that starts at offset \(batch!.start)"
                    } else if sequence <= self.lastSequence {
                        failure = "batch sequence \(sequence) does not follow \(self.lastSequence)"
                    } else if length < size {
                        failure = "batch header with an impossible length of \(length) bytes"
                    } else if offset + length > bytes.count {
                        // A batch larger than its segment grows the file; a crash may have lost the growth.
                        failure = "a batch of \(length) bytes that runs past the end of the file"
                        tearable = true
                        batch = (offset, offset + length, sequence)
                    } else {
                        batch = (offset, offset + length, sequence)
                        offset += size
                        continue
                    }
                case .record(let record):
                    if let open = batch, offset + size <= open.end {
                        pending.append((record, RecordLocation(segment: id, offset: offset, size: size)))
                        offset += size
                        continue
                    }
                    failure = batch == nil
                        ? "a record outside any batch" : "a record that runs past the end of its batch"
                }
            } catch {
                switch error {
                case .truncated:
                    failure = "a record that runs past the end of the file"
                    tearable = true
                case .checksum:
                    failure = "checksum mismatch"
                    tearable = true
                case .malformed(let why):
                    failure = why
                }
            }
            if tearable {
                self.classify(bytes, badRecordAt: offset, batch: batch, failure: failure)
            } else {
                nonZeroEnd = bytes.endOfNonZero(offset..<bytes.count)
                ending = .corrupt(at: offset, reason: "\(failure) (its checksum holds, so no interrupted write made it)")
            }
            return
        }
        nonZeroEnd = dataEnd
    }

    /// Decides whether a bad frame at `offset` is the remains of an interrupted last write or corruption.
    private mutating func classify(
        _ bytes: UnsafeRawBufferPointer, badRecordAt offset: Int, batch: (start: Int, end: Int, sequence: UInt64)?,
        failure: String
    ) {
        nonZeroEnd = bytes.endOfNonZero(offset..<bytes.count)
        if nonZeroEnd == offset && batch == nil {
            ending = .clean  // zeros where the next batch would begin: the normal end of the data
            nonZeroEnd = dataEnd
            return
        }
        if let open = batch {
            // The batch's header is intact, so its end is known: if anything was written after it, the next
            // write had begun, which happens only once this batch was synced.
            if nonZeroEnd > open.end {
                ending = .corrupt(at: offset, reason: "\(failure), inside a batch that later writes follow")
            } else {
                ending = .interrupted(at: open.start, reason: "\(failure) at offset \(offset), in the last batch")
            }
        } else if let later = laterBatch(bytes, after: offset, before: nonZeroEnd) {
            // A damaged batch header: a valid header of a later batch after it proves it had been synced.
            ending = .corrupt(at: offset, reason: "\(failure), yet a complete later write follows at offset \(later)")
        } else if nonZeroEnd - offset <= LogFormat.maxBatchBytes {
            ending = .interrupted(at: offset, reason: "\(failure) where the last batch begins")
        } else {
            ending = .corrupt(at: offset, reason: "\(failure), with \(nonZeroEnd - offset) bytes of data after it")
        }
    }

    /// The offset of a valid header of a batch later than the last complete one, in `(offset, end)`: proof that
    /// the write holding `offset` completed, since the next write starts only after a sync. (A value stored in
    /// the damaged batch that forges such a header, checksum included, would make a torn write look like
    /// corruption: the node then refuses to start rather than lose anything.)
    private func laterBatch(_ bytes: UnsafeRawBufferPointer, after offset: Int, before end: Int) -> Int? {
        var candidate = offset + 1
        let limit = min(bytes.count, end + LogRecord.batchHeaderSize)
        while candidate + LogRecord.batchHeaderSize <= limit {
            // Cheap filter first: a batch header has payload length 12 and type 5.
            if bytes.bigEndianUInt32(at: candidate + 4) == 12 && bytes[candidate + 8] == LogRecord.batchHeaderType,
               case .batchHeader(let found, _)? = try? LogRecord.decode(
                   framed: UnsafeRawBufferPointer(rebasing: bytes[candidate..<(candidate + LogRecord.batchHeaderSize)])).frame,
               found > lastSequence
            {
                return candidate
            }
            candidate += 1
        }
        return nil
    }
}
