import Foundation
import KVClient
import KVProtocol
import KVTestSupport

/// kvsched and N kvnodes as real processes on Unix sockets in a temporary directory, killed and removed
/// when the fixture goes away.
final class LocalCluster: @unchecked Sendable {
    let directory: TemporaryDirectory
    let schedulerSocket: String
    private(set) var scheduler: ChildProcess?
    private(set) var nodes: [ChildProcess?]
    private var starts = 0
    let nodeArguments: [String]
    let schedulerArguments: [String]

    /// Starts kvsched, then node 0 (which bootstraps the cluster), then the others; returns once the first
    /// region has `nodeCount` replicas and a leader.
    init(nodes nodeCount: Int = 3, nodeArguments: [String] = [], schedulerArguments: [String] = [], timeout: Double = 60) throws {
        let replicas = min(nodeCount, 3)
        directory = TemporaryDirectory(prefix: "kvcluster")
        schedulerSocket = directory.file("sched.sock")
        nodes = Array(repeating: nil, count: nodeCount)
        self.nodeArguments = nodeArguments
        self.schedulerArguments = schedulerArguments
        try startScheduler()
        try startNode(0)
        for index in 1..<nodeCount { try startNode(index) }
        try waitForReplicas(replicas, timeout: timeout)
    }

    deinit {
        for node in nodes { node?.stop(signal: SIGKILL) }
        scheduler?.stop(signal: SIGKILL)
        directory.remove()
    }

    func nodeSocket(_ index: Int) -> String { directory.file("n\(index).sock") }
    func nodeData(_ index: Int) -> String { directory.file("n\(index)") }

    func startScheduler() throws {
        starts += 1
        let process = try ChildProcess(
            BuiltProducts.path(of: "kvsched"),
            ["--data", directory.file("sched"), "--socket", schedulerSocket, "--store-disconnect-time", "2s",
             "--log-level", "warning"] + schedulerArguments,
            directory: directory.path, name: "kvsched-\(starts)")
        scheduler = process
        guard process.waitForLine(startingWith: "listening on", timeout: 30) != nil else {
            throw ClusterError("kvsched did not start: \(process.standardError)")
        }
    }

    func killScheduler() {
        scheduler?.stop(signal: SIGKILL)
        scheduler = nil
    }

    func startNode(_ index: Int) throws {
        starts += 1
        let process = try ChildProcess(
            BuiltProducts.path(of: "kvnode"),
            ["--sched", schedulerSocket, "--data", nodeData(index), "--socket", nodeSocket(index), "--threads", "1",
             "--heartbeat-interval", "0.2", "--enable-fault-injection", "--log-level", "warning"] + nodeArguments,
            directory: directory.path, name: "kvnode-\(index)-\(starts)")
        nodes[index] = process
        guard process.waitForLine(startingWith: "listening on", timeout: 60) != nil else {
            throw ClusterError("kvnode \(index) did not start: \(process.standardError)")
        }
    }

    /// Starts one more node (a store joining the running cluster); returns its index.
    func addNode() throws -> Int {
        nodes.append(nil)
        try startNode(nodes.count - 1)
        return nodes.count - 1
    }

    func killNode(_ index: Int, signal: Int32 = SIGKILL) {
        nodes[index]?.stop(signal: signal)
        nodes[index] = nil
    }

    /// A client routed through the scheduler.
    func client(deadline: Double = 10) throws -> ClusterClient {
        ClusterClient(scheduler: .unix(path: schedulerSocket), deadline: deadline)
    }

    /// A client of one node only.
    func nodeClient(_ index: Int, timeout: Double = 5) throws -> NodeClient {
        try NodeClient(address: .unix(path: nodeSocket(index)), timeout: timeout)
    }

    func schedulerClient() throws -> SchedulerClient {
        try SchedulerClient(address: .unix(path: schedulerSocket), timeout: 5)
    }

    /// The index of the node whose store leads the first region, as the scheduler last heard.
    func leaderIndex() throws -> Int? {
        let region = try schedulerClient().regions().first
        guard let address = region?.leaderAddress, !address.isEmpty else { return nil }
        return (0..<nodes.count).first { nodeSocket($0) == address }
    }

    /// Waits until the first region has `count` peers and a known leader.
    func waitForReplicas(_ count: Int, timeout: Double) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let region = try? schedulerClient().regions().first, region.region.peers.count == count,
                region.leaderStoreID != 0
            {
                return
            }
            usleep(100_000)
        }
        throw ClusterError("the region did not reach \(count) replicas within \(timeout) s")
    }

    /// Sends `FAULT` to a node.
    func inject(_ faults: FaultInjection, into index: Int) throws {
        let response = try nodeClient(index).connection.call(.fault(faults))
        guard case .ok = response else { throw ClusterError("FAULT refused: \(response)") }
    }

    /// The store id of a node (from its HELLO-independent STATS-free path: the scheduler's store list).
    func storeID(of index: Int) throws -> UInt64 {
        guard let store = try schedulerClient().stores().first(where: { $0.descriptor.address == nodeSocket(index) }) else {
            throw ClusterError("node \(index) is not registered")
        }
        return store.descriptor.id
    }

    /// A counter from a node's STATS.
    func stat(_ name: String, of index: Int) throws -> Int {
        Int(try nodeClient(index).stats()[name] ?? "") ?? -1
    }

    /// Runs `kvbench check` against the cluster (6 clients, 4 keys, 8 s; its history kept in the directory).
    func runConsistencyCheck() throws -> CommandResult {
        try runCommand(
            BuiltProducts.path(of: "kvbench"),
            ["check", "--sched", schedulerSocket, "--clients", "6", "--keys", "4", "--duration", "8",
             "--timeout", "5", "--history", directory.file("history.txt"), "-o", "json"],
            directory: directory.path, timeout: 120)
    }

    /// Waits until `condition` holds or `timeout` passes; returns whether it held.
    @discardableResult
    static func wait(timeout: Double, _ condition: () -> Bool) -> Bool {
        poll(timeout: timeout, every: 0.1, condition)
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
