import Foundation
import KVClient
import KVTestSupport
import Testing


@Suite("kvctl against a real kvnode", .timeLimit(.minutes(3)))
struct KVCtlTests {
    @Test("put and get round-trip a binary value from a file byte for byte")
    func binaryRoundTrip() throws {
        let node = NodeProcess()
        try node.start()
        var random = SeededGenerator(seed: 1234)
        let value = (0...255).map(UInt8.init) + random.bytes(200_000)
        let path = node.directory.file("value.bin")
        FileManager.default.createFile(atPath: path, contents: Data(value))

        let put = try node.kvctl(["put", "blob", "-"], input: Array(FileManager.default.contents(atPath: path)!))
        #expect(put.status == 0, "\(put.standardError)")
        let get = try node.kvctl(["get", "blob"])
        #expect(get.status == 0)
        #expect(get.standardOutput == value)

        let json = try node.kvctl(["get", "-o", "json", "blob"])
        #expect(json.text.contains("\"value_base64\":true"))

        // Binary keys through --escaped.
        #expect(try node.kvctl(["put", "--escaped", "%00%FFk%20", "v%0A"]).status == 0)
        #expect(try node.kvctl(["get", "--escaped", "%00%FFk%20"]).standardOutput == bytes("v\n"))
    }

    @Test("exit codes: 0 ok, 1 not found, 2 usage, 3 unreachable, 5 server error")
    func exitCodes() throws {
        let node = NodeProcess()
        try node.start()
        #expect(try node.kvctl(["put", "k", "v"]).status == 0)
        #expect(try node.kvctl(["get", "k"]).text == "v")
        let missing = try node.kvctl(["get", "nope"])
        #expect(missing.status == 1)
        #expect(missing.standardOutput.isEmpty)
        #expect(try node.kvctl(["get"]).status == 2)
        #expect(try node.kvctl(["frobnicate"]).status == 2)
        #expect(try node.kvctl(["scan", "--limit", "0"]).status == 2)
        let tooLarge = try node.kvctl(["put", String(repeating: "k", count: 401), "v"])
        #expect(tooLarge.status == 2)
        #expect(tooLarge.standardError.contains("KEY_TOO_LARGE"))
        let unreachable = try node.kvctl(["--node", node.directory.file("nobody.sock"), "get", "k"])
        #expect(unreachable.status == 3)
        #expect(unreachable.standardError.hasPrefix("kvctl: cannot connect"))
        let refused = try node.kvctl(["--node", "127.0.0.1:1", "--timeout", "2", "ping"])
        #expect(refused.status == 3)
        let badAddress = try node.kvctl(["--node", "nonsense", "ping"])
        #expect(badAddress.status == 2)
        let batchWithError = try node.kvctl(["batch"], input: bytes("get k\nfrob\n"))
        #expect(batchWithError.status == 5)
        #expect(batchWithError.text == "VALUE v\nERR UNKNOWN_COMMAND unknown command 'frob'\n")
    }

    @Test("scan lists ranges, prefixes, limits and both directions; delete reports what it removed")
    func scanAndDelete() throws {
        let node = NodeProcess()
        try node.start()
        var input: [UInt8] = []
        for i in 0..<30 { input += bytes("put user:\(String(format: "%02d", i)) name%20\(i)\n") }
        input += bytes("put other x\n")
        let loaded = try node.kvctl(["batch"], input: input)
        #expect(loaded.status == 0)
        #expect(loaded.text == String(repeating: "OK\n", count: 31))

        let prefix = try node.kvctl(["scan", "--prefix", "user:", "--keys-only"])
        #expect(prefix.text.split(separator: "\n").count == 30)
        let range = try node.kvctl(["scan", "user:05", "user:08"])
        #expect(range.text == "user:05 name%205\nuser:06 name%206\nuser:07 name%207\n")
        let reverse = try node.kvctl(["scan", "--reverse", "--limit", "2", "--keys-only"])
        #expect(reverse.text == "user:29\nuser:28\n")
        let json = try node.kvctl(["scan", "-o", "json", "--limit", "1"])
        #expect(json.text == "{\"key\":\"other\",\"value\":\"x\"}\n")
        #expect(try node.kvctl(["delete", "other"]).text == "1\n")
        #expect(try node.kvctl(["delete", "other"]).text == "0\n")
        #expect(try node.kvctl(["--node", node.socketPath, "scan", "--keys-only", "--limit", "1"]).text == "user:00\n")
    }

    @Test("batch pipelines many commands and answers each in protocol or JSON form")
    func batch() throws {
        let node = NodeProcess()
        try node.start()
        var input: [UInt8] = []
        for i in 0..<5_000 { input += bytes("put k\(i) v\(i)\n") }
        for i in 0..<5_000 { input += bytes("get k\(i)\n") }
        input += bytes("scan k0 k2 --limit 2\nPING\nget missing\n")
        let result = try node.kvctl(["batch"], input: input)
        #expect(result.status == 0, "\(result.standardError)")
        let lines = result.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 5_000 + 5_000 + 3 + 1 + 1 + 1)  // two rows and END, PONG, NIL, final newline
        #expect(lines[0] == "OK" && lines[4_999] == "OK")
        #expect(lines[5_000] == "VALUE v0" && lines[9_999] == "VALUE v4999")
        #expect(Array(lines[10_000...]) == ["ROW k0 v0", "ROW k1 v1", "END MORE", "PONG", "NIL", ""])

        let json = try node.kvctl(["batch", "-o", "json"], input: bytes("put a 1\nget a\nget b\nscan a b\nfrob\n"))
        #expect(json.status == 5)
        #expect(json.text == """
            {"ok":true,"result":[]}
            {"value":"1"}
            {"value":null}
            {"rows":[{"key":"a","value":"1"}],"more":false}
            {"error":"UNKNOWN_COMMAND","message":"unknown command 'frob'"}

            """)
    }
}
