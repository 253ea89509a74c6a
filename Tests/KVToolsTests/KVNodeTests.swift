import Foundation
import KVClient
import KVTestSupport
import Testing


@Suite("kvnode and kvdump processes", .timeLimit(.minutes(3)))
struct KVNodeTests {
    @Test("every acknowledged write survives kill -9 and restart")
    func durabilityAcrossKill() throws {
        let node = NodeProcess()
        try node.start()
        let acknowledged = NSLock()
        nonisolated(unsafe) var acked: [Int: [UInt8]] = [:]
        let writers = 4
        let group = DispatchGroup()
        for writer in 0..<writers {
            group.enter()
            DispatchQueue.global().async {
                defer { group.leave() }
                guard let client = try? NodeClient(address: node.address, timeout: 10) else { return }
                for i in 0..<100_000 {
                    let key = writer * 1_000_000 + i
                    let value = bytes("value-\(key)-" + String(repeating: "x", count: i % 50))
                    do {
                        try client.put(bytes("key-\(key)"), value)
                    } catch {
                        return  // the node was killed
                    }
                    acknowledged.withLock { acked[key] = value }
                }
            }
        }
        // Let writes flow (how many depends on the disk's fsync rate), then kill the node mid-stream.
        let deadline = Date().addingTimeInterval(10)
        while acknowledged.withLock({ acked.count }) < 2_000 && Date() < deadline { usleep(10_000) }
        node.kill(signal: SIGKILL)
        #expect(group.wait(timeout: .now() + 30) == .success)
        let expected = acknowledged.withLock { acked }
        #expect(expected.count > 0)

        try node.start()
        let client = try NodeClient(address: node.address, timeout: 10)
        var missing = 0
        for (key, value) in expected where try client.get(bytes("key-\(key)")) != value {
            missing += 1
        }
        #expect(missing == 0, "\(missing) of \(expected.count) acknowledged writes were lost")
    }

    @Test("port 0 picks a free port; SIGTERM stops the node cleanly and removes its socket")
    func tcpAndCleanShutdown() throws {
        let node = NodeProcess()
        try node.start(extraArguments: ["--listen", "127.0.0.1:0", "--socket", node.socketPath])
        let output = String(decoding: node.child!.standardOutput, as: UTF8.self)
        let tcpLine = output.split(separator: "\n").first { $0.hasPrefix("listening on 127.0.0.1:") }
        let port = try #require(tcpLine.flatMap { Int($0.split(separator: ":").last!) })
        #expect(port > 0)
        let client = try NodeClient(address: .tcp(host: "127.0.0.1", port: port), timeout: 10)
        try client.put(bytes("over-tcp"), bytes("yes"))
        #expect(try NodeClient(address: node.address).get(bytes("over-tcp")) == bytes("yes"))

        kill(node.child!.process.processIdentifier, SIGTERM)
        #expect(node.child!.waitForExit(timeout: 20) == 0)
        #expect(!FileManager.default.fileExists(atPath: node.socketPath))
        #expect(node.child!.standardError.contains("stopped"))
    }

    @Test("a second node on the same data directory is refused with a clear error")
    func secondNodeRefused() throws {
        let node = NodeProcess()
        try node.start()
        let second = try runCommand(
            BuiltProducts.path(of: "kvnode"),
            ["--standalone", "--data", node.dataPath, "--socket", node.directory.file("other.sock")],
            directory: node.directory.path)
        #expect(second.status == 1)
        #expect(second.standardError.contains("in use by another process"))
        let noMode = try runCommand(
            BuiltProducts.path(of: "kvnode"), ["--data", node.dataPath], directory: node.directory.path)
        #expect(noMode.status == 2)
    }

    @Test("kvdump reads a live node's directory read-only and matches what was written")
    func kvdumpOnLiveNode() throws {
        let node = NodeProcess()
        try node.start()
        var input: [UInt8] = []
        for i in 0..<500 { input += bytes("put key-\(String(format: "%03d", i)) value-\(i)\n") }
        #expect(try node.kvctl(["batch"], input: input).status == 0)
        let kvdump = BuiltProducts.path(of: "kvdump")
        func dump(_ arguments: [String]) throws -> CommandResult {
            try runCommand(kvdump, arguments, directory: node.directory.path)
        }

        // scan shows every acknowledged write, whether or not it reached LMDB yet (the log is replayed).
        let scan = try dump(["scan", node.dataPath, "--from", "key-100", "--to", "key-103"])
        #expect(scan.text == "key-100 value-100\nkey-101 value-101\nkey-102 value-102\n")
        let limited = try dump(["scan", node.dataPath, "--limit", "2", "-o", "json"])
        #expect(limited.text == "{\"key\":\"key-000\",\"value\":\"value-0\"}\n{\"key\":\"key-001\",\"value\":\"value-1\"}\n")
        let emptyFamily = try dump(["scan", node.dataPath, "--cf", "lock"])
        #expect(emptyFamily.status == 0 && emptyFamily.text.isEmpty)

        let raft = try dump(["raft", node.dataPath])
        #expect(raft.status == 0, "\(raft.standardError)")
        #expect(raft.text.contains("store 1 of cluster 0") && raft.text.contains("region 1 "))
        let log = try dump(["log", node.dataPath, "-o", "json"])
        #expect(log.status == 0)
        #expect(log.text.contains("{\"op\":\"put\",\"key\":\"key-499\",\"value\":\"value-499\"}"))
        let check = try dump(["check", node.dataPath])
        #expect(check.status == 0, "\(check.text) \(check.standardError)")
        #expect(check.text.contains("no damage found"))
        // Still serving after kvdump looked.
        #expect(try node.kvctl(["get", "key-499"]).text == "value-499")

        // A clean stop flushes everything into LMDB: stat's counts and mdb_stat's agree.
        node.kill(signal: SIGTERM)
        #expect(node.child!.waitForExit(timeout: 20) == 0)
        let stat = try dump(["stat", node.dataPath, "-o", "json"])
        #expect(stat.status == 0, "\(stat.standardError)")
        let defaultLine = stat.text.split(separator: "\n").first { $0.contains("\"cf\":\"default\"") }
        #expect(defaultLine?.contains("\"entries\":500") == true)
        #expect(stat.text.contains("\"unflushed_entries\":0"))
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/mdb_stat") {
            let mdbStat = try runCommand("/usr/bin/mdb_stat", ["-s", "default", node.dataPath], directory: node.directory.path)
            #expect(mdbStat.text.contains("Entries: 500"))
        }

        let missing = try dump(["stat", node.directory.file("nope")])
        #expect(missing.status == 1)
        #expect(missing.standardError.contains("does not exist"))
        try FileManager.default.createDirectory(atPath: node.directory.file("junk"), withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: node.directory.file("junk/data.mdb"), contents: Data(repeating: 7, count: 8192))
        let corrupt = try dump(["stat", node.directory.file("junk")])
        #expect(corrupt.status == 1)
        #expect(corrupt.standardError.contains("no valid LMDB data file"))
    }

    @Test("a corrupt record in the middle of the log: kvnode refuses to start, kvdump check names file and offset")
    func corruptLogRecordRefused() throws {
        let node = NodeProcess()
        try node.start(extraArguments: ["--socket", node.socketPath, "--log-segment-size", "1M"])
        for i in 0..<50 { #expect(try node.kvctl(["put", "key-\(i)", "value-\(i)"]).status == 0) }
        node.kill(signal: SIGKILL)
        _ = node.child!.waitForExit(timeout: 20)
        let kvdump = BuiltProducts.path(of: "kvdump")

        // Flip one byte half-way through the data of the segment being written: later batches follow it.
        let raft = try runCommand(kvdump, ["raft", node.dataPath, "-o", "json"], directory: node.directory.path)
        let segmentLine = try #require(raft.text.split(separator: "\n").last { $0.contains("\"segment\"") })
        let name = try #require(segmentLine.firstMatch(of: /"segment":"([0-9]+\.log)"/)?.1)
        let dataBytes = try #require(segmentLine.firstMatch(of: /"data_bytes":([0-9]+)/).flatMap { Int($0.1) })
        let path = node.dataPath + "/log/" + name
        let file = try #require(FileHandle(forUpdatingAtPath: path))
        try file.seek(toOffset: UInt64(dataBytes / 2))
        let original = try #require(try file.read(upToCount: 1))
        try file.seek(toOffset: UInt64(dataBytes / 2))
        try file.write(contentsOf: Data([original[0] ^ 0x20]))
        try file.close()

        let start = try runCommand(
            BuiltProducts.path(of: "kvnode"), ["--standalone", "--data", node.dataPath, "--socket", node.socketPath],
            directory: node.directory.path)
        #expect(start.status == 1)
        #expect(start.standardError.contains(path) && start.standardError.contains("offset"), "\(start.standardError)")
        let check = try runCommand(kvdump, ["check", node.dataPath], directory: node.directory.path)
        #expect(check.status == 5)
        #expect(check.text.contains("DAMAGED") && check.text.contains(path), "\(check.text)")
    }

    @Test("a data.mdb cut short: kvnode refuses to start naming both sizes (no SIGBUS), kvdump check reports it")
    func truncatedDataFileRefused() throws {
        let node = NodeProcess()
        try node.start()
        var input: [UInt8] = []
        let padding = String(repeating: "p", count: 1000)
        for i in 0..<4_000 { input += bytes("put key-\(i) value-\(i)-\(padding)\n") }
        let batch = try node.kvctl(["batch"], input: input)
        #expect(batch.status == 0, "\(batch.standardError)")
        node.kill(signal: SIGTERM)
        #expect(node.child!.waitForExit(timeout: 60) == 0)
        let dataFile = node.dataPath + "/data.mdb"
        let size = try #require(try FileManager.default.attributesOfItem(atPath: dataFile)[.size] as? Int)
        try #require(size > 2 << 20, "data.mdb holds \(size) bytes")
        #expect(truncate(dataFile, 1 << 20) == 0)

        let start = try runCommand(
            BuiltProducts.path(of: "kvnode"), ["--standalone", "--data", node.dataPath, "--socket", node.socketPath],
            directory: node.directory.path)
        #expect(start.status == 1, "kvnode exited \(start.status)")
        #expect(start.standardError.contains(dataFile) && start.standardError.contains("1048576 bytes"), "\(start.standardError)")
        let kvdump = BuiltProducts.path(of: "kvdump")
        let check = try runCommand(kvdump, ["check", node.dataPath], directory: node.directory.path)
        #expect(check.status == 5)
        #expect(check.text.contains("DAMAGED") && check.text.contains("truncated"), "\(check.text)")
        let stat = try runCommand(kvdump, ["stat", node.dataPath], directory: node.directory.path)
        #expect(stat.status == 1 && stat.standardError.contains("truncated"))
    }
}
