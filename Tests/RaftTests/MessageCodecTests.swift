import Raft
import RaftSimulation
import Testing

@Suite("Message wire encoding", .timeLimit(.minutes(2)))
struct MessageCodecTests {
    static let allKinds: [MessageKind] = [
        .append, .appendResponse, .requestVote, .requestVoteResponse, .requestPreVote, .requestPreVoteResponse,
        .heartbeat, .heartbeatResponse, .snapshot, .timeoutNow, .readIndex, .readIndexResponse,
    ]

    static func randomMessage(_ random: inout SimulationRandom, kind: MessageKind) -> Message {
        func bytes(_ random: inout SimulationRandom) -> [UInt8] {
            (0..<random.int(0...20)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        let entries = (0..<random.int(0...4)).map { _ in
            Entry(term: random.next(), index: random.next(), kind: random.chance(0.5) ? .normal : .confChange,
                  data: bytes(&random))
        }
        let snapshot: Snapshot? = random.chance(0.5)
            ? Snapshot(metadata: SnapshotMetadata(index: random.next(), term: random.next(),
                                                  confState: ConfState(voters: [random.next(), 3, 1])),
                       data: bytes(&random))
            : nil
        return Message(kind: kind, from: random.next(), to: random.next(), term: random.next(),
                       logTerm: random.next(), index: random.next(), entries: entries, commit: random.next(),
                       reject: random.chance(0.5), rejectHint: random.next(), snapshot: snapshot,
                       context: bytes(&random), leaderTransfer: random.chance(0.5))
    }

    @Test("every kind round-trips with every field", arguments: allKinds)
    func roundTrip(kind: MessageKind) throws {
        var random = SimulationRandom(seed: UInt64(kind.rawValue))
        for _ in 0..<50 {
            let message = Self.randomMessage(&random, kind: kind)
            #expect(try Message(decoding: message.encode()) == message)
        }
        let empty = Message(kind: kind)
        #expect(try Message(decoding: empty.encode()) == empty)
    }

    @Test("every proper prefix of an encoding is rejected as truncated")
    func truncated() {
        var random = SimulationRandom(seed: 99)
        for kind in Self.allKinds {
            let bytes = Self.randomMessage(&random, kind: kind).encode()
            for length in 0..<bytes.count {
                #expect(throws: MessageDecodingError.truncated) { try Message(decoding: Array(bytes[..<length])) }
            }
        }
    }

    @Test("trailing bytes, unknown versions and kinds are rejected")
    func malformed() {
        var bytes = Message(kind: .heartbeat, from: 1, to: 2, term: 3).encode()
        #expect(throws: MessageDecodingError.trailingBytes(1)) { try Message(decoding: bytes + [0]) }
        bytes[0] = 9
        #expect(throws: MessageDecodingError.unsupportedVersion(9)) { try Message(decoding: bytes) }
        bytes[0] = 1
        bytes[1] = 200
        #expect(throws: MessageDecodingError.unknownMessageKind(200)) { try Message(decoding: bytes) }
        var withEntry = Message(kind: .append, entries: [Entry(term: 1, index: 1)]).encode()
        // The entry kind byte sits after the fixed header (2 + 56 + 1), the context length (4), the entry
        // count (4) and the entry's term and index (16).
        withEntry[2 + 56 + 1 + 4 + 4 + 16] = 7
        #expect(throws: MessageDecodingError.unknownEntryKind(7)) { try Message(decoding: withEntry) }
    }

    @Test("a huge element count in garbage input fails fast instead of allocating")
    func hugeCount() {
        var bytes = Message(kind: .append).encode()
        let countOffset = 2 + 56 + 1 + 4
        for i in 0..<4 { bytes[countOffset + i] = 0xFF }
        #expect(throws: MessageDecodingError.truncated) { try Message(decoding: bytes) }
    }

    @Test("random garbage never traps")
    func garbage() {
        var random = SimulationRandom(seed: 7)
        var decoded = 0
        for _ in 0..<5000 {
            let bytes = (0..<random.int(0...120)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if (try? Message(decoding: bytes)) != nil { decoded += 1 }
        }
        // Mutated valid encodings: flip one byte.
        for kind in Self.allKinds {
            let valid = Self.randomMessage(&random, kind: kind).encode()
            for i in valid.indices {
                var mutated = valid
                mutated[i] ^= 0xA5
                _ = try? Message(decoding: mutated)
            }
        }
        #expect(decoded < 5000)
    }
}
