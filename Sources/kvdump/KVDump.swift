import ArgumentParser
import KVCommandLine
import KVEngine
import KVProtocol
import LogEngine
import RaftStore

#if canImport(Glibc)
import Glibc
#endif

/// `kvdump`: reads a node's data directory offline, read-only (safe beside a live node).
@main
struct KVDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvdump",
        abstract: "Inspect a kvnode or kvsched data directory (read-only; safe on a live process).",
        discussion: """
            Exit codes: 0 ok, 1 the directory cannot be read, 2 usage error, 5 `check` found damage. \
            See kvdump(1).
            """,
        version: ToolkitVersion.release,
        subcommands: [Stat.self, ScanDirectory.self, MvccKey.self, RaftState.self, LogEntries.self, Check.self, SchedulerState.self])

    static func main() {
        runTool(
            subcommands: ["stat", "scan", "mvcc", "raft", "log", "check", "sched"],
            optionsTakingValues: ["-o", "--output", "--cf", "--from", "--to", "--limit", "--region"],
            translate: { error in
                // Every storage failure here is about the directory: missing, not LMDB, unreadable, damaged.
                switch error {
                case let error as EngineError: ToolFailure(exitCode: 1, message: error.message)
                case let error as LogEngineError: ToolFailure(exitCode: 1, message: error.message)
                case let error as RaftStoreError: ToolFailure(exitCode: 1, message: error.message)
                default: nil
                }
            })
    }
}

/// Opens a data directory's LMDB environment read-only.
func openReadOnly(_ path: String) throws -> Environment {
    var options = EnvironmentOptions()
    options.readOnly = true
    return try Environment(path: path, options: options)
}

/// Opens a data directory's log read-only.
func openLogReadOnly(_ directory: String) throws -> LogEngine {
    var options = LogEngineOptions()
    options.readOnly = true
    return try LogEngine(directory: directory + "/log", options: options)
}

/// Pads `text` with spaces to `width` (or one space past it).
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

/// A key or value as one protocol token (printable ASCII as is, the rest `%XX`).
func token(_ bytes: [UInt8]) -> String {
    var line: [UInt8] = []
    ProtocolToken.append(bytes, to: &line)
    return String(decoding: line, as: UTF8.self)
}

extension ColumnFamily: ExpressibleByArgument {}
