import ArgumentParser
import KVClient
import KVCommandLine

/// `kvctl delete KEY`: removes a key; prints 1 when it existed, 0 when not.
struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a key (prints 1 when it existed, 0 when not).")

    @OptionGroup var client: ClientOptions

    @Flag(help: "KEY is written in the protocol's %XX escaping (for binary keys).")
    var escaped = false

    @Argument(help: "The key.")
    var key: String

    func run() throws {
        let keyBytes = try argumentBytes(key, escaped: escaped, what: "KEY")
        try validateKey(keyBytes)
        let node = try client.connectKeyValue()
        let existed = try clientCall { () throws(KVClientError) in try node.delete(keyBytes) }
        switch client.output {
        case .json:
            var line = JSONLine()
            line.addBytes("key", keyBytes)
            line.add("deleted", existed ? 1 : 0)
            StandardStreams.writeLine(line.text)
        case .text:
            StandardStreams.writeLine(existed ? "1" : "0")
        }
    }
}
