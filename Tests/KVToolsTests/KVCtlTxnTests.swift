import Foundation
import KVClient
import KVProtocol
import KVTestSupport
import Testing

@Suite("kvctl txn against a real standalone kvnode", .timeLimit(.minutes(3)))
struct KVCtlTxnTests {
    @Test("put, get and delete are atomic transactions; raw and transactional keys stay apart")
    func oneShotTransactions() throws {
        let node = NodeProcess()
        try node.start()
        let put = try node.kvctl(["txn", "put", "alice", "100", "bob", "50"])
        #expect(put.status == 0, "\(put.standardError)")
        #expect(put.text.hasPrefix("OK "))
        #expect(try node.kvctl(["txn", "get", "alice", "bob", "carol"]).text == "VALUE 100\nVALUE 50\nNIL\n")
        #expect(try node.kvctl(["txn", "get", "-o", "json", "bob"]).text == "{\"key\":\"bob\",\"value\":\"50\"}\n")
        #expect(try node.kvctl(["txn", "delete", "bob"]).status == 0)
        #expect(try node.kvctl(["txn", "get", "bob"]).text == "NIL\n")
        // The raw API sees none of it, and may not write into the transactional key space.
        #expect(try node.kvctl(["get", "alice"]).status == 1)
        #expect(try node.kvctl(["scan"]).text == "")
        let reserved = try node.kvctl(["put", "--escaped", "%FFx", "v"])
        #expect(reserved.status == 2)
        #expect(reserved.standardError.contains("0xFF"))
        #expect(try node.kvctl(["txn", "put", "odd"]).status == 2)
    }

    @Test("a script answers each line in protocol form; transactions follow one another")
    func script() throws {
        let node = NodeProcess()
        try node.start()
        #expect(try node.kvctl(["txn", "put", "x", "1"]).status == 0)
        let input = "get x\nput x 2\nput y two%20words\ncommit\nbegin\nget y\ndelete x\nrollback\nget x\nfrob\nput k\n"
        let result = try node.kvctl(["txn"], input: bytes(input))
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(lines.count == 12, "\(lines)")
        guard lines.count == 12 else { return }
        #expect(lines[0] == "VALUE 1")
        #expect(lines[1] == "OK" && lines[2] == "OK")
        #expect(lines[3].hasPrefix("OK "))
        #expect(lines[4].hasPrefix("OK "))
        #expect(lines[5] == "VALUE two%20words")
        #expect(lines[6] == "OK" && lines[7] == "OK")
        #expect(lines[8] == "VALUE 2")  // the rolled-back delete never happened
        #expect(lines[9].hasPrefix("ERR UNKNOWN_COMMAND"))
        #expect(lines[10].hasPrefix("ERR WRONG_ARITY"))
    }

    @Test("a commit that lost to another transaction answers WRITE_CONFLICT and kvctl exits 4")
    func conflictExitsFour() throws {
        let node = NodeProcess()
        try node.start()
        #expect(try node.kvctl(["txn", "put", "counter", "0"]).status == 0)
        // The script begins, reads and buffers a write, then waits for the file `go` before committing.
        let script = """
            cd \(node.directory.path) || exit 9
            (printf 'begin\\nget counter\\nput counter 1\\n'; while [ ! -e go ]; do sleep 0.05; done; printf 'commit\\n') \
            | KV_NODE=\(node.socketPath) \(BuiltProducts.path(of: "kvctl")) txn > script.out 2> script.err
            echo $? > script.status
            """
        let shell = try ChildProcess("/bin/sh", ["-c", script], directory: node.directory.path, name: "txn-script")
        defer { shell.stop(signal: SIGKILL) }
        let output = node.directory.file("script.out")
        #expect(LocalWait.until(timeout: 30) {
            ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains("VALUE 0")
        })
        // Someone else commits the key after the script's transaction started.
        #expect(try node.kvctl(["txn", "put", "counter", "5"]).status == 0)
        FileManager.default.createFile(atPath: node.directory.file("go"), contents: Data())
        #expect(shell.waitForExit(timeout: 30) == 0)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.last?.hasPrefix("ERR WRITE_CONFLICT") == true, "\(lines)")
        let status = try String(contentsOfFile: node.directory.file("script.status"), encoding: .utf8)
        #expect(status.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
        #expect(try String(contentsOfFile: node.directory.file("script.err"), encoding: .utf8).contains("conflict"))
        #expect(try node.kvctl(["txn", "get", "counter"]).text == "VALUE 5\n")
    }

    @Test("kvdump mvcc shows a key's versions, lock and rollback records, decoded, from a live node")
    func kvdumpMvcc() throws {
        let node = NodeProcess()
        try node.start()
        // A value too long to keep inside its write record, then a short one kept there.
        let long = String(repeating: "x", count: 300)
        #expect(try node.kvctl(["txn", "put", "k", long]).status == 0)
        #expect(try node.kvctl(["txn", "put", "k", "v2"]).status == 0)
        // A prewrite left behind (its coordinator gone), and a rollback record of another transaction.
        let client = try NodeClient(address: node.address)
        let start = try client.timestamp()
        _ = try client.send(.prewrite(TxnPrewrite(primary: bytes("k"), startTS: start, ttl: 60_000, mutations: [TxnMutation(.delete, key: bytes("k"))])))
        let rolledBack = try client.timestamp()
        _ = try client.send(.rollback(startTS: rolledBack, keys: [bytes("k")]))
        let dump = try runCommand(BuiltProducts.path(of: "kvdump"), ["mvcc", node.dataPath, "k"], directory: node.directory.path)
        #expect(dump.status == 0, "\(dump.standardError)")
        let lines = dump.text.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(lines)")
        guard lines.count == 5 else { return }
        #expect(lines[0].hasPrefix("record=LOCK kind=delete start_ts=\(start) "))
        #expect(lines[0].hasSuffix("ttl_ms=60000 primary=k"))
        #expect(lines[1].hasPrefix("record=WRITE commit_ts=\(rolledBack) ") && lines[1].hasSuffix("kind=rollback start_ts=\(rolledBack)"))
        #expect(lines[2].contains("kind=put") && lines[2].hasSuffix(" value=v2"))
        #expect(lines[3].contains("kind=put") && !lines[3].contains("value="))
        #expect(lines[4].hasPrefix("record=DATA") && lines[4].hasSuffix("value=\(long)"))
        let json = try runCommand(BuiltProducts.path(of: "kvdump"), ["mvcc", "-o", "json", node.dataPath, "k"], directory: node.directory.path)
        #expect(json.text.split(separator: "\n").first?.hasPrefix("{\"record\":\"LOCK\",\"kind\":\"delete\"") == true, "\(json.text)")
        #expect(try runCommand(BuiltProducts.path(of: "kvdump"), ["mvcc", node.dataPath, "absent"], directory: node.directory.path).status == 1)
    }

    @Test("kvctl gc raises the safe point; the node's background GC removes the old versions; reads are unchanged")
    func garbageCollection() throws {
        let node = NodeProcess()
        try node.start(extraArguments: ["--socket", node.socketPath, "--gc-interval", "200ms", "--gc-lifetime", "0s"])
        for value in ["v1", "v2", "v3"] { #expect(try node.kvctl(["txn", "put", "k", value]).status == 0) }
        #expect(try node.kvctl(["gc"]).text == "0\n")
        // An abandoned prewrite older than the safe point: the collector settles it (rolls it back) first.
        let client = try NodeClient(address: node.address)
        let abandoned = try client.timestamp()
        _ = try client.send(.prewrite(TxnPrewrite(primary: bytes("k"), startTS: abandoned, ttl: 1, mutations: [TxnMutation(.put, key: bytes("k"), value: bytes("lost"))])))
        let now = try client.timestamp()
        #expect(try node.kvctl(["gc", "--safe-point", "\(now)"]).text == "\(now)\n")
        #expect(try node.kvctl(["gc", "--safe-point", "\(now + (3_600_000 << 18))"]).status == 5)
        let dump = { try runCommand(BuiltProducts.path(of: "kvdump"), ["mvcc", node.dataPath, "k"], directory: node.directory.path).text }
        // Left: v3's write record, its value inside (a short value).
        #expect(LocalWait.until(timeout: 20) { ((try? dump()) ?? "").split(separator: "\n").count == 1 }, "\((try? dump()) ?? "")")
        #expect(((try? dump()) ?? "").hasSuffix(" value=v3\n"))
        #expect(try node.kvctl(["txn", "get", "k"]).text == "VALUE v3\n")
        // Reads and prewrites below the safe point are refused: their versions may be gone.
        guard case .error(let tooOld) = try client.connection.call(.txn(.get(key: bytes("k"), startTS: abandoned))) else {
            Issue.record("a read below the safe point was served")
            return
        }
        #expect(tooOld.code == .aborted)
        // Kept across a restart: the safe point and the collected state.
        node.kill()
        try node.start(extraArguments: ["--socket", node.socketPath, "--gc-interval", "200ms", "--gc-lifetime", "0s"])
        #expect(try node.kvctl(["gc"]).text == "\(now)\n")
        #expect(try node.kvctl(["txn", "get", "k"]).text == "VALUE v3\n")
    }

    @Test("one-phase commits under contention: every snapshot of the accounts sums to the same total")
    func onePhaseBank() throws {
        let node = NodeProcess()
        try node.start()
        defer { node.kill() }  // even if a thread below still holds on to something
        let address = node.address  // the threads capture the address, not the fixture
        let accounts = (0..<6).map { bytes("acct-\($0)") }
        let setup = try TxnClient.node(address)
        let load = try setup.begin()
        for account in accounts { load.put(account, bytes("100")) }
        try load.commit()
        let stop = SharedFlag()
        let problems = SharedList()
        let committed = SharedCounter()
        let group = DispatchGroup()
        for worker in 0..<4 {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let client = try? TxnClient.node(address) else { return problems.append("no client") }
                var random = SeededGenerator(seed: UInt64(worker))
                while !stop.isSet {
                    let from = accounts.randomElement(using: &random)!
                    let to = accounts.randomElement(using: &random)!
                    guard from != to else { continue }
                    do throws(KVClientError) {
                        // Start and first read in one round trip half the time (TMGET 0), as kvbench does.
                        let (txn, read) = worker % 2 == 0
                            ? try client.begin(reading: [from, to]) : try { () throws(KVClientError) in
                                let txn = try client.begin()
                                return (txn, try txn.get([from, to]))
                            }()
                        let values = read.map { Int(String(decoding: $0 ?? [], as: UTF8.self)) ?? -1 }
                        guard values[0] >= 1 else { continue }
                        txn.put(from, bytes(String(values[0] - 1)))
                        txn.put(to, bytes(String(values[1] + 1)))
                        try txn.commit()
                        committed.add()
                    } catch where error.kind == .server(.writeConflict) || error.kind == .server(.aborted) {
                        continue
                    } catch {
                        problems.append("\(error)")
                    }
                }
            }.start()
        }
        group.enter()
        Thread {
            defer { group.leave() }
            guard let client = try? TxnClient.node(address) else { return problems.append("no client") }
            var round = 0
            while !stop.isSet {
                round += 1
                do throws(KVClientError) {
                    var total = 0
                    if round % 2 == 0 {
                        // Each account read on its own: a commit landing between two reads must not show.
                        let txn = try client.begin()
                        for account in accounts { total += Int(String(decoding: try txn.get(account) ?? [], as: UTF8.self)) ?? -1000 }
                    } else {
                        // All at once at a timestamp the node takes as it reads.
                        let (_, values) = try client.begin(reading: accounts)
                        for value in values { total += Int(String(decoding: value ?? [], as: UTF8.self)) ?? -1000 }
                    }
                    if total != 600 { problems.append("a snapshot summed to \(total)") }
                } catch {
                    problems.append("audit: \(error)")
                }
            }
        }.start()
        LocalWait.until(timeout: 20) { committed.value >= 400 }
        stop.set()
        #expect(group.wait(timeout: .now() + 30) == .success)
        #expect(problems.items.isEmpty, "\(problems.items.prefix(5))")
        #expect(committed.value >= 400)
    }

    @Test("TMGET 0: a standalone node takes the start timestamp as it reads; a lock in the way falls back and is resolved")
    func readAtFreshTimestamp() throws {
        let node = NodeProcess()
        try node.start()
        defer { node.kill() }
        let client = try TxnClient.node(node.address)
        let oracle = try NodeClient(address: node.address)
        let setup = try client.begin()
        setup.put(bytes("a"), bytes("1"))
        setup.put(bytes("b"), bytes("2"))
        try setup.commit()
        let before = try oracle.timestamp()
        let (txn, values) = try client.begin(reading: [bytes("a"), bytes("b"), bytes("c")])
        let after = try oracle.timestamp()
        #expect(before < txn.startTS && txn.startTS < after)
        #expect(values == [bytes("1"), bytes("2"), nil])
        txn.put(bytes("a"), bytes("3"))
        #expect(try txn.commit() > after)
        // An abandoned prewrite of c (100 ms TTL): TMGET meets its lock, and the usual way waits it out.
        let connection = try LineConnection(to: node.address)
        let abandoned = try oracle.timestamp()
        #expect(try connection.call(.txn(.prewrite(TxnPrewrite(
            primary: bytes("c"), startTS: abandoned, ttl: 100, mutations: [TxnMutation(.put, key: bytes("c"), value: bytes("x"))])))) == .ok)
        let (later, seen) = try client.begin(reading: [bytes("a"), bytes("c")])
        #expect(seen == [bytes("3"), nil])
        #expect(later.startTS > abandoned)
        // A cluster's node would refuse TMGET 0 (kvsched is its oracle); a timestamp given is read at as is.
        guard case .rows = try connection.call(.txn(.batchGet(keys: [bytes("a")], startTS: before))) else {
            Issue.record("TMGET at a given timestamp did not answer rows")
            return
        }
        // Pipelined behind a write, TMGET 0 is answered by the store loop: the timestamp is taken when the
        // burst is proposed, and the read sees the write before it.
        let burst: [Request] = [.txn(.prewrite(TxnPrewrite(
            primary: bytes("d"), startTS: try oracle.timestamp(), ttl: 100, mutations: [TxnMutation(.put, key: bytes("d"), value: bytes("y"))]))),
            .txn(.batchGet(keys: [bytes("a")], startTS: 0))]
        try connection.send(burst.flatMap(\.encoded))
        #expect(try connection.readResponse() == .ok)
        let pipelined = try TxnBatchRead(parsing: try connection.readResponse(), keys: [bytes("a")])
        #expect(pipelined.rows.map(\.value) == [bytes("3")])
        #expect(pipelined.startTS > later.startTS)
        // Pipelined behind a one-phase commit of the same key, TMGET 0 reads after its commit timestamp: the
        // new value, or SERVER_BUSY while the commit is being published — never the value before it.
        let oneStart = try oracle.timestamp()
        try connection.send([Request.txn(.commitOnePhase(startTS: oneStart, commitTS: 0, mutations: [TxnMutation(.put, key: bytes("a"), value: bytes("4"))])),
                             .txn(.batchGet(keys: [bytes("a")], startTS: 0))].flatMap(\.encoded))
        guard case .ok(let words) = try connection.readResponse(), let commitWord = words.first, commitWord.hasPrefix("commit_ts=") else {
            Issue.record("ONE_PC did not commit")
            return
        }
        let behind = try connection.readResponse()
        if case .error(let busy) = behind {
            #expect(busy.code == .serverBusy)
        } else {
            let read = try TxnBatchRead(parsing: behind, keys: [bytes("a")])
            #expect(read.rows.map(\.value) == [bytes("4")])
            #expect(read.startTS > UInt64(commitWord.dropFirst(10))!)
        }
    }

    @Test("refused one-phase commits leave no memory lock behind: the keys stay readable and writable")
    func onePhaseRefusalsReleaseLocks() throws {
        let node = NodeProcess()
        try node.start()
        defer { node.kill() }
        let connection = try LineConnection(to: node.address)
        let timestamps = try NodeClient(address: node.address)
        func onePhase(_ start: UInt64, _ commit: UInt64, _ key: String) -> String {
            "ONE_PC \(start) \(commit) PUT \(key) v\(start)\n"
        }
        func code(_ response: Response) -> String {
            if case .error(let error) = response { return error.code.rawValue }
            return "\(response)"
        }
        // A commit timestamp is the node's to take, never the client's.
        let early = try timestamps.timestamp()
        try connection.send(Array(onePhase(early, early + 5, "given").utf8))
        #expect(code(try connection.readResponse()) == "BAD_ARGUMENT")
        // Below the GC safe point: refused after the checks that used to come after the locks were taken.
        let raised = try connection.call(.scheduler(.setGCSafePoint(try timestamps.timestamp())))
        guard case .ok = raised else { throw KVClientError(.badResponse, "SET_GC_SAFE_POINT: \(raised)") }
        try connection.send(Array(onePhase(early, 0, "old").utf8))
        #expect(code(try connection.readResponse()) == "ABORTED")
        // Two in one burst on the same key: the second is busy (the first holds the key) — neither may leak.
        let (first, second) = (try timestamps.timestamp(), try timestamps.timestamp())
        try connection.send(Array((onePhase(first, 0, "twice") + onePhase(second, 0, "twice")).utf8))
        _ = try connection.readResponse()
        _ = try connection.readResponse()
        // Every key reads and commits at once (a leaked lock answers SERVER_BUSY until the client's deadline).
        let client = try TxnClient.node(node.address)
        client.deadline = 2
        for key in ["given", "old", "twice"] {
            let txn = try client.begin()
            _ = try txn.get(bytes(key))
            txn.put(bytes(key), bytes("after"))
            try txn.commit()
            #expect(try client.begin().get(bytes(key)) == bytes("after"))
        }
    }

    @Test("a standalone node's timestamps only grow, across kill -9 and restart")
    func timestampsSurviveRestart() throws {
        let node = NodeProcess()
        try node.start()
        let client = try NodeClient(address: node.address)
        var last: UInt64 = 0
        for _ in 0..<100 {
            let next = try client.timestamp()
            #expect(next > last)
            last = next
        }
        node.kill()
        try node.start()
        let restarted = try NodeClient(address: node.address)
        #expect(try restarted.timestamp() > last)
    }
}

/// Polling for a condition in tests.
enum LocalWait {
    static func until(timeout: Double, _ condition: () -> Bool) -> Bool {
        poll(timeout: timeout, every: 0.05, condition)
    }
}
