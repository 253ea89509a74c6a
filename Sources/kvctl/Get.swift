import ArgumentParser
import KVCommandLine

/// `kvctl get KEY`: prints the value byte for byte; exit 1 when absent.
struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the value of a key (exit 1 when absent).",
        discussion: "The value is written exactly as stored; a newline follows only when stdout is a terminal.")

    @OptionGroup var client: ClientOptions

    @Flag(help: "KEY is written in the protocol's %XX escaping (for binary keys).")
    var escaped = false

    @Argument(help: "The key.")
    var key: String

    func run() throws {
        let keyBytes = try argumentBytes(key, escaped: escaped, what: "KEY")
        try validateKey(keyBytes)
        let node = try client.connectKeyValue()
        let value = try clientCall { () throws(KVClientError) in try node.get(keyBytes) }
        switch client.output {
        case .json:
            var line = JSONLine()
            line.addBytes("key", keyBytes)
            if let value { line.addBytes("value", value) } else { line.addNull("value") }
            StandardStreams.writeLine(line.text)
        case .text:
            if let value {
                StandardStreams.write(value)
                if standardOutputIsTerminal { StandardStreams.write([0x0A]) }
            }
        }
        if value == nil { throw KVCtlFailure(exitCode: KVCtlFailure.notFound, message: "") }
    }
}

import KVClient
