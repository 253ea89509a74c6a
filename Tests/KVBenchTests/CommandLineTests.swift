import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `kvbench` and checks exit codes and messages on the paths that need no store.
@Suite("kvbench command line", .timeLimit(.minutes(2)))
struct CommandLineTests {
    /// The exit status and stderr of `kvbench arguments`.
    private func kvbench(_ arguments: [String]) throws -> (status: Int32, standardError: String) {
        let executable = try #require(Self.builtExecutable("kvbench"))
        var template = Array("/tmp/kvbench-test-XXXXXX\0".utf8CString)
        let descriptor = mkstemp(&template)
        try #require(descriptor >= 0)
        let errorPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer {
            close(descriptor)
            unlink(errorPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, descriptor, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        try #require(posix_spawn(&pid, executable, &actions, nil, argv, environ) == 0)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        var bytes = [UInt8](repeating: 0, count: 8192)
        let count = pread(descriptor, &bytes, bytes.count, 0)
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return (exitStatus, String(decoding: bytes[..<max(0, count)], as: UTF8.self))
    }

    /// The path of an executable built beside this test binary.
    private static func builtExecutable(_ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        var directory = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = directory.lastIndex(of: "/") {
            directory = String(directory[..<slash])
            let candidate = directory + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
            if !directory.hasSuffix(".xctest") && !directory.hasSuffix("MacOS") && !directory.hasSuffix("Contents") {
                break
            }
        }
        return nil
    }

    /// A loopback port with nothing listening on it.
    private static func closedPort() -> Int {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socketDescriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketDescriptor, pointer, length)
                return getsockname(socketDescriptor, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("--sched with nobody listening exits 3; --sched with --node or another target is a usage error")
    func schedUnreachable() throws {
        let port = Self.closedPort()
        let result = try kvbench(["--sched", "127.0.0.1:\(port)", "run", "c", "--ops", "10", "--timeout", "2"])
        #expect(result.status == 3, "\(result.standardError)")
        #expect(try kvbench(["--sched", "127.0.0.1:1", "--node", "127.0.0.1:2", "run", "c"]).status == 2)
        #expect(try kvbench(["--sched", "127.0.0.1:1", "--target", "redis", "run", "c"]).status == 2)
    }

    @Test("txn-transfer against an unreachable kvnode exits 3")
    func transferOnKVUnreachable() throws {
        let result = try kvbench(["run", "txn-transfer", "--node", "127.0.0.1:\(Self.closedPort())", "--timeout", "2"])
        #expect(result.status == 3, "\(result.standardError)")
    }

    @Test("usage errors exit 2")
    func usage() throws {
        #expect(try kvbench(["run", "workload-z"]).status == 2)
        #expect(try kvbench(["run", "a", "--value-size", "10"]).status == 2)
        #expect(try kvbench(["run", "a", "--ops", "5", "--duration", "3"]).status == 2)
        #expect(try kvbench(["run", "a", "--target", "redis", "--url", "https://127.0.0.1:1"]).status == 2)
    }

    @Test("an unreachable store exits 3", arguments: ["kv", "redis", "etcd"])
    func unreachable(target: String) throws {
        let port = Self.closedPort()
        let address = target == "kv" ? ["--node", "127.0.0.1:\(port)"] : ["--url", "127.0.0.1:\(port)"]
        let result = try kvbench(["--target", target] + address + ["run", "c", "--ops", "10", "--timeout", "2"])
        #expect(result.status == 3)
        #expect(result.standardError.contains("cannot connect"))
    }
}
