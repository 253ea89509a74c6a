import ArgumentParser
import KVClient
import KVCommandLine
import KVProtocol

/// `kvctl put KEY VALUE`: stores a value; `-` reads it from stdin, byte for byte.
struct Put: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store a value under a key (VALUE '-' reads it from stdin).",
        discussion: "Returns once the node has made the write durable.")

    @OptionGroup var client: ClientOptions

    @Flag(help: "KEY and VALUE are written in the protocol's %XX escaping (for binary data).")
    var escaped = false

    @Argument(help: "The key.")
    var key: String

    @Argument(help: "The value, or - to read it from stdin.")
    var value: String

    func run() throws {
        let keyBytes = try argumentBytes(key, escaped: escaped, what: "KEY")
        try validateKey(keyBytes)
        let valueBytes = value == "-" ? StandardStreams.readAllInput() : try argumentBytes(value, escaped: escaped, what: "VALUE")
        guard valueBytes.count <= ProtocolLimits.maxValueSize else {
            throw KVCtlFailure(
                exitCode: KVCtlFailure.usage,
                message: "VALUE_TOO_LARGE: value of \(valueBytes.count) bytes is over the limit of \(ProtocolLimits.maxValueSize)")
        }
        let node = try client.connectKeyValue()
        try clientCall { () throws(KVClientError) in try node.put(keyBytes, valueBytes) }
        switch client.output {
        case .json:
            var line = JSONLine()
            line.add("ok", true)
            StandardStreams.writeLine(line.text)
        case .text:
            StandardStreams.writeLine("OK")
        }
    }
}
