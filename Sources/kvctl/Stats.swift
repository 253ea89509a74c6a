import ArgumentParser
import KVClient
import KVCommandLine

/// `kvctl stats`: the node's counters.
struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the node's counters (keys, bytes, requests, ...); with --sched, the scheduler's.")

    @OptionGroup var client: ClientOptions

    func run() throws {
        let node = try client.connectKeyValue()
        let words = try clientCall { () throws(KVClientError) -> [String] in
            guard case .ok(let words) = try node.call(.stats) else {
                throw KVClientError(.badResponse, "unexpected answer to STATS")
            }
            return words
        }
        switch client.output {
        case .json:
            var line = JSONLine()
            for word in words {
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                if let number = Int(parts[1]) { line.add(parts[0], number) } else { line.add(parts[0], parts[1]) }
            }
            StandardStreams.writeLine(line.text)
        case .text:
            for word in words { StandardStreams.writeLine(word) }
        }
    }
}
