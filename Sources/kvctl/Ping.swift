import ArgumentParser
import KVClient
import KVCommandLine

/// `kvctl ping`: checks that the node answers, and prints who it is.
struct Ping: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check that the node answers (prints its HELLO).")

    @OptionGroup var client: ClientOptions

    func run() throws {
        // With --sched (or $KV_SCHED) this pings the scheduler.
        let node = try client.connectKeyValue()
        let words = try clientCall { () throws(KVClientError) -> [String] in
            guard case .pong = try node.call(.ping), case .ok(let words) = try node.call(.hello) else {
                throw KVClientError(.badResponse, "unexpected answer to PING or HELLO")
            }
            return words
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
