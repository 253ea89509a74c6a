import Foundation
import KVClient
import KVTestSupport

/// A real `kvnode --standalone` process on a Unix socket (or TCP port 0) in a temporary directory.
final class NodeProcess: @unchecked Sendable {
    let directory: TemporaryDirectory
    let dataPath: String
    let socketPath: String
    private(set) var child: ChildProcess?
    private var starts = 0

    init(directory: TemporaryDirectory = TemporaryDirectory(prefix: "kvtools")) {
        self.directory = directory
        dataPath = directory.file("data")
        socketPath = directory.file("node.sock")
    }

    /// Starts the node and waits until it listens.
    func start(extraArguments: [String] = ["--socket"], timeout: Double = 30) throws {
        starts += 1
        var arguments = ["--standalone", "--data", dataPath, "--threads", "2"]
        arguments += extraArguments == ["--socket"] ? ["--socket", socketPath] : extraArguments
        let process = try ChildProcess(
            BuiltProducts.path(of: "kvnode"), arguments, directory: directory.path, name: "kvnode-\(starts)")
        child = process
        guard process.waitForLine(startingWith: "listening on", timeout: timeout) != nil else {
            throw NodeProcessError(message: "kvnode did not start: \(process.standardError)")
        }
    }

    var address: NodeAddress { .unix(path: socketPath) }

    /// Runs `kvctl` against this node.
    func kvctl(_ arguments: [String], input: [UInt8]? = nil) throws -> CommandResult {
        try runCommand(
            BuiltProducts.path(of: "kvctl"), arguments, standardInput: input,
            environment: ["KV_NODE": socketPath], directory: directory.path)
    }

    func kill(signal: Int32 = SIGKILL) {
        child?.stop(signal: signal)
    }

    deinit {
        child?.stop(signal: SIGKILL)
    }
}

struct NodeProcessError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
