import ArgumentParser
import Dispatch
import KVClient
import KVCommandLine
import KVProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `kvctl batch`: one command per line from stdin, one answer per command, pipelined.
struct Batch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run commands from stdin, one per line, pipelined; print one answer per command.",
        discussion: """
            Each line is a command with tokens escaped as in the protocol: get KEY, put KEY VALUE, delete KEY, \
            scan [START] [END] [--limit N] [--reverse] [--keys-only]; any other line is sent to the node as it \
            is (PING, STATS, ...). Answers come in the protocol's form (VALUE, NIL, OK, ROW...END, ERR) or as \
            JSON objects with -o json. A scan in a batch returns one page (at most --limit, default 1000 rows). \
            Exit 0 when no answer is an error, 4 when one is a conflict, 5 for any other error answer.
            """)

    @OptionGroup var client: ClientOptions

    func run() throws {
        if let scheduler = try client.schedulerAddress() {
            try runRouted(ClusterClient(scheduler: scheduler, deadline: client.timeout))
            return
        }
        let node = try client.connect()
        let connection = node.connection
        let progress = Mutex(BatchProgress())
        let failure = Mutex<KVClientError?>(nil)

        // The sender reads stdin and writes requests while this thread reads answers, so a large batch never
        // waits for a round trip per command.
        DispatchQueue.global().async {
            var reader = LineReader(descriptor: 0)
            var pending: [UInt8] = []
            do throws(KVClientError) {
                while let lines = reader.nextLines() {
                    var count = 0
                    for line in lines where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                        Self.translate(line, into: &pending)
                        count += 1
                    }
                    progress.withLock { $0.sent += count }
                    try connection.send(pending)
                    pending.removeAll(keepingCapacity: true)
                }
            } catch {
                failure.withLock { $0 = error }
            }
            progress.withLock { $0.finished = true }
            connection.finishSending()
        }

        var received = 0
        var worst: Int32 = 0
        while true {
            let (sent, finished) = progress.withLock { ($0.sent, $0.finished) }
            if finished && received == sent { break }
            let response: Response
            do {
                response = try connection.readResponse()
            } catch {
                let (sent, finished) = progress.withLock { ($0.sent, $0.finished) }
                if error.kind == .timeout && received == sent && !finished { continue }  // idle, waiting for input
                if finished && received == sent { break }
                throw KVCtlFailure(failure.withLock { $0 } ?? error)
            }
            received += 1
            if case .error(let error) = response {
                worst = max(worst, KVCtlFailure.exitCode(for: .server(error.code)) == KVCtlFailure.conflict ? 4 : 5)
            }
            Self.print(response, format: client.output)
            // Flush when caught up (before waiting for more input); otherwise let the output buffer fill.
            if progress.withLock({ $0.sent == received }) { StandardStreams.flush() }
        }
        if let error = failure.withLock({ $0 }) { throw KVCtlFailure(error) }
        if worst != 0 { throw KVCtlFailure(exitCode: worst, message: "") }
    }

    /// Rewrites the kvctl verbs (get, put, delete, scan) to protocol requests; other lines pass as they are.
    static func translate(_ line: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var tokens = Array(RequestLine.split(line))
        guard let verb = tokens.first else { return }
        let word = String(decoding: verb, as: UTF8.self).lowercased()
        switch word {
        case "get": tokens[0] = Array("GET".utf8)[...]
        case "put": tokens[0] = Array("PUT".utf8)[...]
        case "delete", "del": tokens[0] = Array("DEL".utf8)[...]
        case "scan": tokens = scanTokens(tokens)
        default: break
        }
        for (index, token) in tokens.enumerated() {
            if index > 0 { out.append(0x20) }
            out.append(contentsOf: token)
        }
        out.append(0x0A)
    }

    private static func scanTokens(_ tokens: [ArraySlice<UInt8>]) -> [ArraySlice<UInt8>] {
        var positional: [ArraySlice<UInt8>] = []
        var options: [ArraySlice<UInt8>] = []
        var index = 1
        while index < tokens.count {
            switch String(decoding: tokens[index], as: UTF8.self).lowercased() {
            case "--limit", "limit":
                options.append(Array("LIMIT".utf8)[...])
                if index + 1 < tokens.count { options.append(tokens[index + 1]) }
                index += 2
                continue
            case "--reverse", "reverse": options.append(Array("REVERSE".utf8)[...])
            case "--keys-only", "keysonly": options.append(Array("KEYSONLY".utf8)[...])
            default: positional.append(tokens[index])
            }
            index += 1
        }
        while positional.count < 2 { positional.append(ProtocolToken.empty[...]) }
        return [Array("SCAN".utf8)[...]] + positional + options
    }

    /// Through a cluster: the requests of each chunk of input go to their regions' leaders, pipelined per
    /// region (``ClusterClient/callPipelined(_:)``); answers in input order.
    private func runRouted(_ cluster: ClusterClient) throws {
        var reader = LineReader(descriptor: 0)
        var worst: Int32 = 0
        while let lines = reader.nextLines() {
            var parsed: [Result<Request, ProtocolError>] = []
            for line in lines where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                var translated: [UInt8] = []
                Self.translate(line, into: &translated)
                var body = translated[...]
                if body.last == 0x0A { body.removeLast() }
                parsed.append(Result { () throws(ProtocolError) in try Request.parse(body) })
            }
            let requests = parsed.compactMap { try? $0.get() }
            var answers = cluster.callPipelined(requests).makeIterator()
            for item in parsed {
                let response: Response
                switch item {
                case .failure(let error):
                    response = .error(error)
                case .success:
                    switch answers.next()! {
                    case .success(let answer):
                        response = answer
                    case .failure(let error):
                        if case .server(let code) = error.kind {
                            response = .error(ProtocolError(code, String(error.message.drop(while: { $0 != " " }).dropFirst())))
                        } else {
                            // The client's own failures, in the protocol's form: the code names the kind.
                            let code: ErrorCode = switch error.kind {
                            case .outcomeUnknown: .outcomeUnknown
                            case .unreachable, .invalidAddress: ErrorCode(rawValue: "UNREACHABLE")
                            case .timeout: ErrorCode(rawValue: "TIMEOUT")
                            case .connectionClosed: ErrorCode(rawValue: "CONNECTION_CLOSED")
                            default: .badResponse
                            }
                            response = .error(ProtocolError(code, error.message))
                            worst = max(worst, KVCtlFailure.exitCode(for: error.kind))
                        }
                    }
                }
                if case .error(let error) = response {
                    let code = KVCtlFailure.exitCode(for: .server(error.code))
                    worst = max(worst, code == KVCtlFailure.conflict ? 4 : max(5, worst))
                }
                Self.print(response, format: client.output)
            }
            StandardStreams.flush()
        }
        if worst != 0 { throw KVCtlFailure(exitCode: worst, message: "") }
    }

    static func print(_ response: Response, format: OutputFormat) {
        switch format {
        case .text:
            StandardStreams.write(response.encoded)
        case .json:
            var line = JSONLine()
            switch response {
            case .pong: line.add("pong", true)
            case .ok(let words):
                line.add("ok", true)
                line.addRaw("result", json: "[" + words.map(JSONLine.quote).joined(separator: ",") + "]")
            case .value(let value): line.addBytes("value", value)
            case .notFound: line.addNull("value")
            case .rows(let rows, let more):
                let objects = rows.map { row in
                    var object = JSONLine()
                    object.addBytes("key", row.key)
                    if let value = row.value { object.addBytes("value", value) }
                    return object.text
                }
                line.addRaw("rows", json: "[" + objects.joined(separator: ",") + "]")
                line.add("more", more)
            case .records(let records):
                let lists = records.map { "[" + $0.map(JSONLine.quote).joined(separator: ",") + "]" }
                line.addRaw("records", json: "[" + lists.joined(separator: ",") + "]")
            case .error(let error):
                line.add("error", error.code.rawValue)
                line.add("message", error.message)
            }
            StandardStreams.writeLine(line.text)
        }
    }
}

/// How far the sender has got.
struct BatchProgress {
    var sent = 0
    var finished = false
}

/// Reads a file descriptor and hands out complete lines as they arrive.
struct LineReader {
    let descriptor: Int32
    private var buffer: [UInt8] = []
    private var atEnd = false

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// The complete lines (without LF) available after one read, or `nil` at the end of input.
    mutating func nextLines() -> [ArraySlice<UInt8>]? {
        while true {
            if atEnd {
                guard !buffer.isEmpty else { return nil }
                defer { buffer.removeAll() }
                return [buffer[...]]
            }
            var chunk = [UInt8](repeating: 0, count: 256 * 1024)
            let count = read(descriptor, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                atEnd = true
                continue
            }
            buffer.append(contentsOf: chunk[..<count])
            guard let lastNewline = buffer.lastIndex(of: 0x0A) else { continue }
            let complete = Array(buffer[..<lastNewline])
            buffer.removeFirst(lastNewline + 1)
            return complete.split(separator: 0x0A, omittingEmptySubsequences: false)
        }
    }
}
