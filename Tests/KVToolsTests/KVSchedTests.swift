import Foundation
import KVClient
import KVTestSupport
import Testing

/// A real `kvsched` process on a Unix socket in a temporary directory.
final class SchedulerProcess: @unchecked Sendable {
    let directory: TemporaryDirectory
    let dataPath: String
    let socketPath: String
    private(set) var child: ChildProcess?
    private var starts = 0

    init(directory: TemporaryDirectory = TemporaryDirectory(prefix: "kvsched")) {
        self.directory = directory
        dataPath = directory.file("sched")
        socketPath = directory.file("sched.sock")
    }

    func start() throws {
        starts += 1
        let process = try ChildProcess(
            BuiltProducts.path(of: "kvsched"), ["--data", dataPath, "--socket", socketPath], directory: directory.path,
            name: "kvsched-\(starts)")
        child = process
        guard process.waitForLine(startingWith: "listening on", timeout: 30) != nil else {
            throw NodeProcessError(message: "kvsched did not start: \(process.standardError)")
        }
    }

    /// Runs `kvctl` with `KV_SCHED` (and `KV_NODE`, for raw protocol lines through `batch`) set to this scheduler.
    func kvctl(_ arguments: [String], input: [UInt8]? = nil) throws -> CommandResult {
        try runCommand(
            BuiltProducts.path(of: "kvctl"), arguments, standardInput: input,
            environment: ["KV_SCHED": socketPath, "KV_NODE": socketPath], directory: directory.path)
    }

    func kill() { child?.stop(signal: SIGKILL) }

    deinit { child?.stop(signal: SIGKILL) }
}

@Suite("kvsched process", .timeLimit(.minutes(3)))
struct KVSchedTests {
    @Test("timestamps never go back and the region map survives kill -9; kvctl and kvdump show the cluster")
    func restartKeepsState() throws {
        let scheduler = SchedulerProcess()
        try scheduler.start()
        var last: UInt64 = 0
        for _ in 0..<5 {
            let result = try scheduler.kvctl(["tso"])
            #expect(result.status == 0, "\(result.standardError)")
            let timestamp = UInt64(result.text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(timestamp > last)
            last = timestamp
        }
        let bootstrap = try scheduler.kvctl(
            ["batch"], input: bytes("ALLOC_ID 3\nBOOTSTRAP store=1 address=127.0.0.1:1 region=2 peer=3\n"))
        #expect(bootstrap.text.hasPrefix("OK first=1 count=3\nOK cluster_id="), "\(bootstrap.text)")

        scheduler.kill()
        try scheduler.start()
        let after = try scheduler.kvctl(["tso", "-o", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(after.standardOutput)) as? [String: Any]
        let timestamp = (object?["timestamp"] as? NSNumber)?.uint64Value ?? 0
        #expect(timestamp > last)

        let region = try scheduler.kvctl(["region", "get", "somekey", "-o", "json"])
        #expect(region.status == 0, "\(region.standardError)")
        #expect(region.text.contains("\"id\":2"))
        // Leaders live in memory only: unknown after a restart until the region's next heartbeat.
        #expect(region.text.contains("\"leader_store\":0"))
        let status = try scheduler.kvctl(["cluster", "status"])
        #expect(status.text.contains("bootstrapped"))
        #expect(status.text.contains("127.0.0.1:1"))
        let stores = try scheduler.kvctl(["--sched", scheduler.socketPath, "store", "list"])
        #expect(stores.text.hasPrefix("ID  ADDRESS"), "\(stores.text)")

        let dump = try runCommand(BuiltProducts.path(of: "kvdump"), ["sched", scheduler.dataPath], directory: scheduler.directory.path)
        #expect(dump.status == 0, "\(dump.standardError)")
        #expect(dump.text.contains("bootstrapped"))
        #expect(dump.text.contains("3@1"))
        // The persisted high-water mark is above every timestamp handed out.
        let mark = dump.text.split(separator: "\n").first { $0.hasPrefix("tso high-water mark") }
            .flatMap { UInt64($0.split(separator: " ")[3]) } ?? 0
        #expect(mark << 18 > timestamp)
    }

    @Test("bad options and foreign directories get a clear error and exit status")
    func badConfiguration() throws {
        let directory = TemporaryDirectory(prefix: "kvsched")
        func kvsched(_ arguments: [String]) throws -> CommandResult {
            try runCommand(BuiltProducts.path(of: "kvsched"), arguments, directory: directory.path, timeout: 30)
        }
        let shortDown = try kvsched(["--data", directory.file("a"), "--max-store-down-time", "1s"])
        #expect(shortDown.status == 2)
        #expect(shortDown.standardError.contains("must not be shorter than the store disconnect time"))
        let bareNumber = try kvsched(["--data", directory.file("a"), "--operator-timeout", "60"])
        #expect(bareNumber.status == 2)
        let badListen = try kvsched(["--data", directory.file("a"), "--listen", "nowhere"])
        #expect(badListen.status == 2)
        #expect(badListen.standardError.contains("HOST:PORT"))
        let replicas = try kvsched(["--data", directory.file("a"), "--max-replicas", "0"])
        #expect(replicas.status == 2)
        let unreachable = try runCommand(
            BuiltProducts.path(of: "kvctl"), ["tso", "--sched", directory.file("nobody.sock"), "--timeout", "2"],
            directory: directory.path)
        #expect(unreachable.status == 3)

        // A kvnode directory is not a scheduler's, and the other way round.
        let node = NodeProcess(directory: directory)
        try node.start()
        node.kill(signal: SIGTERM)
        _ = node.child?.waitForExit(timeout: 30)
        let onNodeDirectory = try kvsched(["--data", node.dataPath, "--socket", directory.file("s.sock")])
        #expect(onNodeDirectory.status == 1)
        #expect(onNodeDirectory.standardError.contains("is a kvnode data directory"))

        let scheduler = SchedulerProcess(directory: directory)
        try scheduler.start()
        scheduler.kill()
        let nodeOnScheduler = try runCommand(
            BuiltProducts.path(of: "kvnode"), ["--standalone", "--data", scheduler.dataPath, "--socket", directory.file("n.sock")],
            directory: directory.path, timeout: 30)
        #expect(nodeOnScheduler.status == 1)
        #expect(nodeOnScheduler.standardError.contains("is a kvsched data directory"), "\(nodeOnScheduler.standardError)")
    }
}
