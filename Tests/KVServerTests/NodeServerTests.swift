import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing


@Suite("Standalone node over a real socket", .timeLimit(.minutes(2)))
struct NodeServerTests {
    @Test("an idle connection knows when the server closed it, before anything is written into it")
    func closedByPeer() throws {
        let fixture = try ServerFixture()
        let connection = try fixture.connection()
        #expect(try connection.call(.ping) == .pong)
        #expect(!connection.stream.isClosedByPeer)
        // QUIT: the server answers, then closes its side.
        #expect(try connection.call(.quit) == .ok(["bye"]))
        let deadline = Date().addingTimeInterval(10)
        while !connection.stream.isClosedByPeer && Date() < deadline { usleep(10_000) }
        #expect(connection.stream.isClosedByPeer)
    }

    @Test("shutting the server down twice returns (a signal and a storage failure may both ask)")
    func shutdownTwice() throws {
        let fixture = try ServerFixture()
        #expect(try fixture.client().get(bytes("k")) == nil)
        fixture.server.shutdown()
        fixture.server.shutdown()  // and once more in the fixture's deinit
    }

    @Test("pipelined requests from several connections are all answered, in order")
    func pipelinedConnections() throws {
        let fixture = try ServerFixture()
        let connections = 8
        let perConnection = 400
        let failures = NSLock()
        nonisolated(unsafe) var problems: [String] = []
        DispatchQueue.concurrentPerform(iterations: connections) { c in
            do {
                let connection = try fixture.connection()
                var batch: [UInt8] = []
                for i in 0..<perConnection {
                    // A write, then a read of it: the read must see the write.
                    batch += Request.put(key: bytes("c\(c)-k\(i)"), value: bytes("v\(i)")).encoded
                    batch += Request.get(key: bytes("c\(c)-k\(i)")).encoded
                }
                try connection.send(batch)
                for i in 0..<perConnection {
                    let put = try connection.readResponse()
                    let get = try connection.readResponse()
                    if put != .ok || get != .value(bytes("v\(i)")) {
                        failures.withLock { problems.append("connection \(c) request \(i): \(put) \(get)") }
                        return
                    }
                }
            } catch {
                failures.withLock { problems.append("connection \(c): \(error)") }
            }
        }
        #expect(problems.isEmpty, "\(problems.prefix(3))")
        let stats = try fixture.client().stats()
        #expect(stats["keys"] == "\(connections * perConnection)")
        #expect(stats["writes"] == "\(connections * perConnection)")
        // Group commit: far fewer log syncs than writes.
        let syncs = Int(stats["log_syncs"] ?? "") ?? .max
        #expect(syncs < connections * perConnection / 2)
    }

    @Test("each connection reads its own writes, even when a read is pipelined right behind a write")
    func readYourWrites() throws {
        let fixture = try ServerFixture()
        let connection = try fixture.connection()
        for round in 0..<50 {
            try connection.send(
                Request.put(key: bytes("k"), value: bytes("\(round)")).encoded
                    + Request.get(key: bytes("k")).encoded + Request.delete(key: bytes("k")).encoded
                    + Request.get(key: bytes("k")).encoded)
            #expect(try connection.readResponse() == .ok)
            #expect(try connection.readResponse() == .value(bytes("\(round)")))
            #expect(try connection.readResponse() == .ok(["1"]))
            #expect(try connection.readResponse() == .notFound)
        }
    }

    @Test("bad input is answered with ERR and the connection keeps serving")
    func badInput() throws {
        let fixture = try ServerFixture()
        let connection = try fixture.connection()
        let bad: [[UInt8]] = [
            bytes("FROBNICATE x"), bytes("GET"), bytes("GET a b"), bytes("PUT k"), bytes("GET a%zz"),
            bytes("GET \"quoted\""), bytes("SCAN a b LIMIT zero"), bytes("GET \"\""),
            bytes("GET " + String(repeating: "k", count: 401)), [0x00, 0x01, 0x02], [0xFF, 0xFE, 0x20, 0x80],
        ]
        for line in bad {
            try connection.send(line + [0x0A])
            guard case .error = try connection.readResponse() else {
                Issue.record("no ERR for \(line.prefix(20))")
                continue
            }
            #expect(try connection.call(.ping) == .pong)
        }
        // Seeded random garbage: every line gets exactly one answer (never a crash), then PING still works.
        var random = SeededGenerator(seed: 99)
        for _ in 0..<200 {
            var line = random.bytes(Int.random(in: 1...200, using: &random)).filter { $0 != 0x0A && $0 != 0x0D }
            if line.isEmpty || line.allSatisfy({ $0 == 0x20 }) { line = [0x7F] }
            try connection.send(line + [0x0A])
            _ = try connection.readResponse()
        }
        #expect(try connection.call(.ping) == .pong)
    }

    @Test("an over-long line gets LINE_TOO_LONG without being buffered, and the next request works")
    func overLongLine() throws {
        let fixture = try ServerFixture()
        let connection = try fixture.connection()
        var huge = bytes("PUT big ")
        huge += [UInt8](repeating: 0x61, count: ProtocolLimits.maxLineLength + 10)
        try connection.send(huge + [0x0A] + Request.get(key: bytes("big")).encoded)
        guard case .error(let error) = try connection.readResponse() else {
            Issue.record("expected an error")
            return
        }
        #expect(error.code == .lineTooLong)
        #expect(try connection.readResponse() == .notFound)
        // The largest allowed value, fully escaped, fits.
        let value = [UInt8](repeating: 0x20, count: ProtocolLimits.maxValueSize)
        #expect(try connection.call(.put(key: bytes("big"), value: value)) == .ok)
        #expect(try connection.call(.get(key: bytes("big"))) == .value(value))
    }

    @Test("scans page with END MORE, and the client stitches pages in both directions")
    func scanPaging() throws {
        let fixture = try ServerFixture()
        let client = try fixture.client()
        let keys = (0..<2_500).map { bytes(String(format: "key-%05d", $0)) }
        var batch: [UInt8] = []
        for key in keys { batch += Request.put(key: key, value: key).encoded }
        try client.connection.send(batch)
        for _ in keys { #expect(try client.connection.readResponse() == .ok) }

        let page = try client.scanPage(ScanRequest(limit: 1_000))
        #expect(page.rows.count == 1_000 && page.more)
        let last = try client.scanPage(ScanRequest(start: keys[2_000], limit: 1_000))
        #expect(last.rows.count == 500 && !last.more)
        let exact = try client.scanPage(ScanRequest(start: keys[1_500], limit: 1_000))
        #expect(exact.rows.count == 1_000 && exact.more == false)

        var forward: [[UInt8]] = []
        try client.scan(ScanRequest(limit: 300)) { row throws(KVClientError) in
            forward.append(row.key)
            return true
        }
        #expect(forward == keys)
        var backward: [[UInt8]] = []
        try client.scan(ScanRequest(start: keys[100], end: keys[2_100], limit: 7, reverse: true, keysOnly: true)) {
            row throws(KVClientError) in
            #expect(row.value == nil)
            backward.append(row.key)
            return true
        }
        #expect(backward == Array(keys[100..<2_100].reversed()))
        var limited = 0
        try client.scan(ScanRequest(limit: 1_000), maxRows: 1_234) { _ throws(KVClientError) in
            limited += 1
            return true
        }
        #expect(limited == 1_234)
    }

    @Test("QUIT and a half-closed connection are answered in full before the server closes")
    func closing() throws {
        let fixture = try ServerFixture()
        let quitting = try fixture.connection()
        try quitting.send(Request.put(key: bytes("q"), value: bytes("1")).encoded + Request.quit.encoded + Request.ping.encoded)
        #expect(try quitting.readResponse() == .ok)
        #expect(try quitting.readResponse() == .ok(["bye"]))
        #expect(throws: KVClientError.self) { try quitting.readResponse() }

        let halfClosed = try fixture.connection()
        var batch: [UInt8] = []
        for i in 0..<200 { batch += Request.put(key: bytes("h\(i)"), value: [UInt8](repeating: 1, count: 1000)).encoded }
        batch += Request.scan(ScanRequest(limit: 10_000)).encoded
        try halfClosed.send(batch)
        halfClosed.finishSending()
        for _ in 0..<200 { #expect(try halfClosed.readResponse() == .ok) }
        guard case .rows(let rows, false) = try halfClosed.readResponse() else {
            Issue.record("expected the scan answer")
            return
        }
        #expect(rows.count == 201)
        #expect(throws: KVClientError.self) { try halfClosed.readResponse() }
    }

    @Test("lines split across sends, and a last line without a line feed before a half-close, are all answered")
    func framing() throws {
        let fixture = try ServerFixture()
        let connection = try fixture.connection()
        // One request in pieces, then two in one send with the second cut in the middle of a token.
        for piece in ["PU", "T spl", "it 1", "\r\n", "PUT a 2\nGET sp", "lit\n"] {
            try connection.send(bytes(piece))
            usleep(2_000)
        }
        #expect(try connection.readResponse() == .ok)
        #expect(try connection.readResponse() == .ok)
        #expect(try connection.readResponse() == .value(bytes("1")))
        try connection.send(bytes("GET a"))
        connection.finishSending()
        #expect(try connection.readResponse() == .value(bytes("2")))
        #expect(throws: KVClientError.self) { try connection.readResponse() }
    }

    @Test("HELLO, PING and STATS")
    func introspection() throws {
        let fixture = try ServerFixture()
        let client = try fixture.client()
        try client.ping()
        #expect(try client.hello() == ["kvnode", "test"])
        try client.put(bytes("a"), bytes("1"))
        #expect(try client.delete(bytes("a")) == true)
        #expect(try client.delete(bytes("a")) == false)
        let stats = try client.stats()
        #expect(stats["keys"] == "0")
        #expect(stats["connections"] == "1")
        #expect(Int(stats["requests"] ?? "") ?? 0 >= 4)
    }
}
