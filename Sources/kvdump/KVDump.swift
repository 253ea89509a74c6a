import ArgumentParser
import KVCommandLine
import KVEngine
import KVProtocol

#if canImport(Glibc)
import Glibc
#endif

/// `kvdump`: reads a node's data directory offline, read-only (safe beside a live node).
@main
struct KVDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvdump",
        abstract: "Inspect a kvnode data directory (read-only; safe on a live node).",
        discussion: "Exit codes: 0 ok, 1 the directory cannot be read, 2 usage error. See kvdump(1).",
        version: ToolkitVersion.release,
        subcommands: [Stat.self, ScanDirectory.self])

    static func main() {
        runTool(
            subcommands: ["stat", "scan"], optionsTakingValues: ["-o", "--output", "--cf", "--from", "--to", "--limit"],
            translate: { error in
                // Every engine failure here is about the directory: missing, not LMDB, unreadable.
                (error as? EngineError).map { ToolFailure(exitCode: 1, message: $0.message) }
            })
    }
}

/// Opens a data directory read-only.
func openReadOnly(_ path: String) throws -> Environment {
    var options = EnvironmentOptions()
    options.readOnly = true
    return try Environment(path: path, options: options)
}

extension ColumnFamily: ExpressibleByArgument {}
