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
        do {
            var command = try parseAsRoot()
            try command.run()
            StandardStreams.flush()
            Glibc.exit(0)
        } catch let error as EngineError {
            StandardStreams.error("kvdump: \(error.message)")
            Glibc.exit(1)
        } catch {
            StandardStreams.flush()
            if exitCode(for: error) == .validationFailure {
                StandardStreams.error(fullMessage(for: error))
                Glibc.exit(2)
            }
            self.exit(withError: error)
        }
    }
}

/// Opens a data directory read-only.
func openReadOnly(_ path: String) throws -> Environment {
    var options = EnvironmentOptions()
    options.readOnly = true
    return try Environment(path: path, options: options)
}

extension ColumnFamily: ExpressibleByArgument {}
