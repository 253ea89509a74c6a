// Binary wire encoding of messages, for the raftstore's transport.
//
// Layout (all integers big-endian):
//
//     u8 version (1) | u8 kind | u64 from, to, term, logTerm, index, commit, rejectHint
//     u8 flags (bit 0 reject, bit 1 leaderTransfer, bit 2 snapshot present)
//     u32 n + n bytes context
//     u32 count, then per entry: u64 term, u64 index, u8 kind, u32 n + n bytes data
//     if snapshot: u64 index, u64 term, u32 count + count × u64 voters, u32 n + n bytes data
//
// Decoding checks every length against the bytes left, so truncated or garbage input throws instead of
// trapping or allocating without bound.
extension Message {
    static let codecVersion: UInt8 = 1
    private static let entryHeaderSize = 8 + 8 + 1 + 4

    /// Encodes the message for the wire (format version 1).
    ///
    /// - Returns: the bytes; decode them with ``init(decoding:)``.
    public func encode() -> [UInt8] {
        let payload = entries.reduce(0) { $0 + $1.data.count + Self.entryHeaderSize }
            + (snapshot.map { $0.data.count + 8 * $0.metadata.confState.voters.count + 24 } ?? 0)
        var w = ByteWriter(capacity: 72 + context.count + payload)
        w.u8(Self.codecVersion)
        w.u8(kind.rawValue)
        for field in [from, to, term, logTerm, index, commit, rejectHint] {
            w.u64(field)
        }
        var flags: UInt8 = 0
        if reject { flags |= 1 }
        if leaderTransfer { flags |= 2 }
        if snapshot != nil { flags |= 4 }
        w.u8(flags)
        w.lengthPrefixed(context)
        w.u32(UInt32(entries.count))
        for entry in entries {
            w.u64(entry.term)
            w.u64(entry.index)
            w.u8(entry.kind.rawValue)
            w.lengthPrefixed(entry.data)
        }
        if let snapshot {
            w.u64(snapshot.metadata.index)
            w.u64(snapshot.metadata.term)
            w.u32(UInt32(snapshot.metadata.confState.voters.count))
            for voter in snapshot.metadata.confState.voters {
                w.u64(voter)
            }
            w.lengthPrefixed(snapshot.data)
        }
        return w.bytes
    }

    /// Decodes a message written by ``encode()``.
    ///
    /// - Parameter bytes: exactly one encoded message.
    /// - Throws: ``MessageDecodingError`` if the bytes are truncated, have trailing garbage, an unknown
    ///   version, message kind or entry kind. Never traps on malformed input.
    public init(decoding bytes: [UInt8]) throws(MessageDecodingError) {
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == Self.codecVersion else { throw MessageDecodingError.unsupportedVersion(version) }
        let kindByte = try r.u8()
        guard let kind = MessageKind(rawValue: kindByte) else {
            throw MessageDecodingError.unknownMessageKind(kindByte)
        }
        let from = try r.u64()
        let to = try r.u64()
        let term = try r.u64()
        let logTerm = try r.u64()
        let index = try r.u64()
        let commit = try r.u64()
        let rejectHint = try r.u64()
        let flags = try r.u8()
        let context = try r.lengthPrefixed()
        let entryCount = try r.count(minimumElementSize: Self.entryHeaderSize)
        var entries: [Entry] = []
        entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let entryTerm = try r.u64()
            let entryIndex = try r.u64()
            let entryKindByte = try r.u8()
            guard let entryKind = EntryKind(rawValue: entryKindByte) else {
                throw MessageDecodingError.unknownEntryKind(entryKindByte)
            }
            entries.append(Entry(term: entryTerm, index: entryIndex, kind: entryKind, data: try r.lengthPrefixed()))
        }
        var snapshot: Snapshot?
        if flags & 4 != 0 {
            let snapIndex = try r.u64()
            let snapTerm = try r.u64()
            let voterCount = try r.count(minimumElementSize: 8)
            var voters: [UInt64] = []
            voters.reserveCapacity(voterCount)
            for _ in 0..<voterCount {
                voters.append(try r.u64())
            }
            let data = try r.lengthPrefixed()
            snapshot = Snapshot(metadata: SnapshotMetadata(index: snapIndex, term: snapTerm,
                                                           confState: ConfState(voters: voters)), data: data)
        }
        guard r.remaining == 0 else { throw MessageDecodingError.trailingBytes(r.remaining) }
        self.init(kind: kind, from: from, to: to, term: term, logTerm: logTerm, index: index, entries: entries,
                  commit: commit, reject: flags & 1 != 0, rejectHint: rejectHint, snapshot: snapshot,
                  context: context, leaderTransfer: flags & 2 != 0)
    }
}
