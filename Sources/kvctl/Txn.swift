import ArgumentParser
import KVClient
import KVCommandLine
import KVProtocol

/// `kvctl txn`: transactions. `get`, `put` and `delete` are one atomic transaction each; with no subcommand,
/// a script on stdin (`begin`, `get k`, `put k v`, `delete k`, `commit`, `rollback`), each line answered as
/// soon as it is read.
struct TxnCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txn",
        abstract: "Snapshot-isolated transactions (Percolator two-phase commit).",
        discussion: """
            With no subcommand, reads a script from stdin, one command per line, and answers each line at once \
            in the protocol's form: begin → OK <start_ts>; get k → VALUE v or NIL; put k v, delete k → OK \
            (buffered); commit → OK <commit_ts> or ERR <CODE> ...; rollback → OK. Keys and values use the \
            protocol's %XX escaping. A command outside a transaction begins one. Transactions follow one another; \
            one left open at the end of input is rolled back. Exit 4 when a commit lost to a conflict.
            """,
        subcommands: [Get.self, Put.self, Delete.self])

    @OptionGroup var client: ClientOptions

    func run() throws {
        let txnClient = try client.connectTransactional()
        defer { txnClient.close() }
        var script = TxnScript(client: txnClient, format: client.output)
        var reader = LineReader(descriptor: 0)
        while let lines = reader.nextLines() {
            for line in lines where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) {
                script.run(line)
            }
            StandardStreams.flush()
        }
        script.finish()
        if script.worstExit != 0 {
            throw KVCtlFailure(exitCode: script.worstExit, message: script.worstExit == KVCtlFailure.conflict
                ? "a transaction did not commit: it conflicted with another one (retry it)" : "")
        }
    }

    /// `kvctl txn get K...`: reads the keys in one snapshot.
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read keys in one snapshot; one line per key: VALUE v (escaped) or NIL.")

        @OptionGroup var client: ClientOptions
        @Flag(help: "Keys are written in the protocol's %XX escaping.")
        var escaped = false
        @Argument(help: "The keys.")
        var keys: [String]

        func run() throws {
            let keyBytes = try keys.map { try argumentBytes($0, escaped: escaped, what: "KEY") }
            for key in keyBytes { try validateKey(key, raw: false) }
            let txnClient = try client.connectTransactional()
            let values = try clientCall { () throws(KVClientError) -> [[UInt8]?] in
                let txn = try txnClient.begin()
                return try keyBytes.map { (key) throws(KVClientError) in try txn.get(key) }
            }
            for (key, value) in zip(keyBytes, values) {
                switch client.output {
                case .text: StandardStreams.write((value.map(Response.value) ?? .notFound).encoded)
                case .json:
                    var line = JSONLine()
                    line.addBytes("key", key)
                    if let value { line.addBytes("value", value) } else { line.addNull("value") }
                    StandardStreams.writeLine(line.text)
                }
            }
        }
    }

    /// `kvctl txn put K V [K V ...]`: writes the pairs in one transaction.
    struct Put: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write key-value pairs in one transaction; prints OK <commit_ts>.")

        @OptionGroup var client: ClientOptions
        @Flag(help: "Keys and values are written in the protocol's %XX escaping.")
        var escaped = false
        @Argument(help: "KEY VALUE pairs.")
        var pairs: [String]

        func validate() throws {
            guard !pairs.isEmpty, pairs.count % 2 == 0 else { throw ValidationError("give KEY VALUE pairs") }
        }

        func run() throws {
            let bytes = try pairs.map { try argumentBytes($0, escaped: escaped, what: "KEY or VALUE") }
            for i in stride(from: 0, to: bytes.count, by: 2) { try validateKey(bytes[i], raw: false) }
            try commitOne(client) { txn in
                for i in stride(from: 0, to: bytes.count, by: 2) { txn.put(bytes[i], bytes[i + 1]) }
            }
        }
    }

    /// `kvctl txn delete K...`: removes the keys in one transaction.
    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove keys in one transaction; prints OK <commit_ts>.")

        @OptionGroup var client: ClientOptions
        @Flag(help: "Keys are written in the protocol's %XX escaping.")
        var escaped = false
        @Argument(help: "The keys.")
        var keys: [String]

        func run() throws {
            let keyBytes = try keys.map { try argumentBytes($0, escaped: escaped, what: "KEY") }
            for key in keyBytes { try validateKey(key, raw: false) }
            try commitOne(client) { txn in keyBytes.forEach(txn.delete) }
        }
    }
}

/// Runs one transaction made of `writes`, prints `OK <commit_ts>`.
private func commitOne(_ options: ClientOptions, _ writes: (Transaction) -> Void) throws {
    let txnClient = try options.connectTransactional()
    defer { txnClient.close() }
    let commitTS = try clientCall { () throws(KVClientError) -> UInt64 in
        let txn = try txnClient.begin()
        writes(txn)
        return try txn.commit()
    }
    switch options.output {
    case .text: StandardStreams.writeLine("OK \(commitTS)")
    case .json:
        var line = JSONLine()
        line.add("ok", true)
        line.add("commit_ts", Int(commitTS))
        StandardStreams.writeLine(line.text)
    }
}

/// The state of a `kvctl txn` script: the open transaction, and the worst exit status so far.
struct TxnScript {
    let client: TxnClient
    let format: OutputFormat
    var open: Transaction?
    var worstExit: Int32 = 0

    init(client: TxnClient, format: OutputFormat) {
        self.client = client
        self.format = format
    }

    /// Runs one script line and prints its answer.
    mutating func run(_ line: ArraySlice<UInt8>) {
        let response: Response
        do {
            response = try answer(RequestLine.split(line))
        } catch let error as ProtocolError {
            response = .error(error)
        } catch let error as KVClientError {
            response = .error(ProtocolError(Self.code(of: error), Self.text(of: error)))
            worstExit = max(worstExit, KVCtlFailure.exitCode(for: error.kind))
        } catch {
            response = .error(ProtocolError(.internalError, "\(error)"))
        }
        Batch.print(response, format: format)
    }

    /// Rolls back a transaction left open at the end of input.
    mutating func finish() {
        open?.rollback()
        open = nil
    }

    private mutating func answer(_ tokens: ArraySlice<ArraySlice<UInt8>>) throws -> Response {
        guard let verbToken = tokens.first else { throw ProtocolError(.unknownCommand, "empty line") }
        let verb = String(decoding: verbToken, as: UTF8.self).lowercased()
        let arguments = Array(tokens.dropFirst())
        func arity(_ count: Int, _ usage: String) throws {
            guard arguments.count == count else { throw ProtocolError(.wrongArity, "usage: \(usage)") }
        }
        func key(_ index: Int) throws -> [UInt8] {
            let key = try ProtocolToken.decode(arguments[index])
            try Request.checkKey(key)
            return key
        }
        switch verb {
        case "begin":
            try arity(0, "begin")
            open?.rollback()
            let txn = try client.begin()
            open = txn
            return .ok(["\(txn.startTS)"])
        case "get":
            try arity(1, "get key")
            return try transaction().get(try key(0)).map(Response.value) ?? .notFound
        case "put":
            try arity(2, "put key value")
            let value = try ProtocolToken.decode(arguments[1])
            guard value.count <= ProtocolLimits.maxValueSize else {
                throw ProtocolError(.valueTooLarge, "value of \(value.count) bytes is over the limit of \(ProtocolLimits.maxValueSize)")
            }
            try transaction().put(try key(0), value)
            return .ok
        case "delete", "del":
            try arity(1, "delete key")
            try transaction().delete(try key(0))
            return .ok
        case "commit":
            try arity(0, "commit")
            let txn = try transaction()
            open = nil
            return .ok(["\(try txn.commit())"])
        case "rollback":
            try arity(0, "rollback")
            open?.rollback()
            open = nil
            return .ok
        default:
            throw ProtocolError(.unknownCommand, "unknown command '\(verb)'; use begin, get, put, delete, commit, rollback")
        }
    }

    private mutating func transaction() throws -> Transaction {
        if let open { return open }
        let txn = try client.begin()
        open = txn
        return txn
    }

    /// The error code for a client error: the server's, or a word for the connection failure.
    static func code(of error: KVClientError) -> ErrorCode {
        switch error.kind {
        case .server(let code): code
        case .outcomeUnknown: .outcomeUnknown
        default: ErrorCode(rawValue: "UNREACHABLE")
        }
    }

    /// The message without the code word the server's errors start with.
    static func text(of error: KVClientError) -> String {
        guard case .server(let code) = error.kind, error.message.hasPrefix(code.rawValue + " ") else { return error.message }
        return String(error.message.dropFirst(code.rawValue.count + 1))
    }
}

extension ClientOptions {
    /// A transactional client of the cluster (`--sched`, `$KV_SCHED`) or of the one node these options name.
    func connectTransactional() throws -> TxnClient {
        if let scheduler = try schedulerAddress() {
            return TxnClient.cluster(scheduler: scheduler, deadline: timeout)
        }
        let address = try nodeAddress()
        do {
            let client = try TxnClient.node(address, timeout: timeout)
            client.deadline = timeout
            return client
        } catch {
            throw KVCtlFailure(error)
        }
    }
}

/// `kvctl gc [--safe-point TS]`: shows or raises the MVCC garbage collection safe point.
struct GCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gc",
        abstract: "Print the MVCC garbage collection safe point, or raise it with --safe-point.",
        discussion: """
            Versions older than the newest one at or below the safe point are removed in the background by the \
            nodes; reads at or after it are unchanged, reads below it are no longer possible. The safe point only \
            moves forward (and never past the timestamps handed out); kvsched (or a standalone node) also moves it \
            to the clock minus its --gc-lifetime. With --sched (or $KV_SCHED) it is the cluster's, else the \
            standalone node's.
            """)

    @OptionGroup var client: ClientOptions

    @Option(help: ArgumentHelp("Raise the safe point to this timestamp (e.g. from `kvctl tso`).", valueName: "ts"))
    var safePoint: UInt64?

    func run() throws {
        let request: SchedulerRequest = safePoint.map(SchedulerRequest.setGCSafePoint) ?? .gcSafePoint
        let value: UInt64
        if let scheduler = try client.schedulerAddress() {
            value = try clientCall { () throws(KVClientError) -> UInt64 in
                let connection = try SchedulerClient(address: scheduler, timeout: client.timeout)
                if let safePoint { return try connection.setGCSafePoint(safePoint) }
                return try connection.gcSafePoint()
            }
        } else {
            let node = try client.connect()
            let response = try clientCall { () throws(KVClientError) in try node.call(.scheduler(request)) }
            guard case .ok(let words) = response, let found = words.first(where: { $0.hasPrefix("safe_point=") }).flatMap({ UInt64($0.dropFirst(11)) }) else {
                throw KVCtlFailure(exitCode: KVCtlFailure.serverError, message: "unexpected answer: \(response)")
            }
            value = found
        }
        switch client.output {
        case .text: StandardStreams.writeLine(String(value))
        case .json:
            var line = JSONLine()
            line.add("safe_point", Int(value))
            StandardStreams.writeLine(line.text)
        }
    }
}
