import ArgumentParser
import KVClient
import KVCommandLine

/// `kvctl ping`: checks that the node answers, and prints who it is.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the node answers (prints its HELLO).")

    @OptionGroup var client: ClientOptions

    func run() throws {
        let node = try client.connect()
        let words = try clientCall { () throws(KVClientError) in
            try node.ping()
            return try node.hello()
        }
        switch client.output {
        case .json:
            var line = JSONLine()
            line.add("pong", true)
            line.add("hello", words.joined(separator: " "))
            StandardStreams.writeLine(line.text)
        case .text:
            StandardStreams.writeLine("PONG " + words.joined(separator: " "))
        }
    }
}
