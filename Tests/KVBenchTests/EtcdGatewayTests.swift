import KVCommandLine
import Testing
@testable import KVBench

@Suite("etcd JSON gateway", .timeLimit(.minutes(2)))
struct EtcdGatewayTests {
    private func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    @Test("request bodies use base64 keys and string integers")
    func requests() {
        #expect(text(EtcdGatewayJSON.range(key: Array("foo".utf8))) == #"{"key":"Zm9v"}"#)
        #expect(
            text(EtcdGatewayJSON.range(key: Array("user1".utf8), rangeEnd: Array("uses".utf8), limit: 10))
                == #"{"key":"dXNlcjE=","range_end":"dXNlcw==","limit":"10"}"#)
        #expect(text(EtcdGatewayJSON.put(key: [0x61], value: [0x62])) == #"{"key":"YQ==","value":"Yg=="}"#)
        #expect(
            text(EtcdGatewayJSON.conditionalPut(compares: [([0x61], 7)], puts: [([0x61], [0x63])]))
                == #"{"compare":[{"key":"YQ==","target":"MOD","result":"EQUAL","mod_revision":"7"}],"#
                + #""success":[{"request_put":{"key":"YQ==","value":"Yw=="}}]}"#)
        #expect(
            text(EtcdGatewayJSON.readAll([[0x61], [0x62]]))
                == #"{"success":[{"request_range":{"key":"YQ=="}},{"request_range":{"key":"Yg=="}}]}"#)
    }

    @Test("range answers: pairs, revisions, empty values, no match")
    func rangeAnswers() throws {
        let answer = try JSONValue.parse(Array(#"""
            {"header":{"cluster_id":"14841639068965178418","member_id":"10276657743932975437","revision":"9","raft_term":"2"},
             "kvs":[{"key":"Zm9v","create_revision":"2","mod_revision":"8","version":"3","value":"YmFy"},
                    {"key":"Zm9w","create_revision":"4","mod_revision":"4","version":"1"}],"count":"2"}
            """#.utf8))
        let pairs = try EtcdGatewayJSON.keyValues(inRange: answer)
        #expect(pairs == [
            EtcdGatewayJSON.KeyValue(key: Array("foo".utf8), value: Array("bar".utf8), modRevision: 8),
            EtcdGatewayJSON.KeyValue(key: Array("fop".utf8), value: [], modRevision: 4),
        ])
        let none = try JSONValue.parse(Array(#"{"header":{"revision":"9"}}"#.utf8))
        #expect(try EtcdGatewayJSON.keyValues(inRange: none).isEmpty)
        let broken = try JSONValue.parse(Array(#"{"kvs":[{"key":"!!"}]}"#.utf8))
        #expect(throws: DriverError.self) { try EtcdGatewayJSON.keyValues(inRange: broken) }
    }

    @Test("txn answers: succeeded, its absence, and nested ranges")
    func transactionAnswers() throws {
        let success = try JSONValue.parse(Array(#"""
            {"header":{"revision":"12"},"succeeded":true,"responses":[
              {"response_range":{"header":{"revision":"12"},"kvs":[{"key":"YQ==","mod_revision":"5","value":"MQ=="}],"count":"1"}},
              {"response_range":{"header":{"revision":"12"}}}]}
            """#.utf8))
        let outcome = try EtcdGatewayJSON.transaction(success)
        #expect(outcome.succeeded)
        #expect(outcome.ranges.count == 2)
        #expect(outcome.ranges[0] == [EtcdGatewayJSON.KeyValue(key: [0x61], value: [0x31], modRevision: 5)])
        #expect(outcome.ranges[1].isEmpty)
        let failed = try JSONValue.parse(Array(#"{"header":{"revision":"12"},"responses":[]}"#.utf8))
        #expect(try EtcdGatewayJSON.transaction(failed).succeeded == false)
    }

    @Test("error answers become server errors with the gRPC code")
    func errors() {
        let error = EtcdGatewayJSON.error(
            status: 400, body: Array(#"{"error":"etcdserver: too many operations in txn request","code":3,"message":"etcdserver: too many operations in txn request"}"#.utf8))
        #expect(error.kind == .server("etcd-grpc-3"))
        #expect(error.message.contains("too many operations"))
        #expect(EtcdGatewayJSON.error(status: 502, body: Array("bad gateway".utf8)).kind == .server("etcd-http-502"))
    }

    @Test("base64 decoding round-trips the encoder")
    func base64() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 * 37 + 11) }
            #expect(Base64Decoding.decode(Base64.encode(bytes)) == bytes)
        }
        #expect(Base64Decoding.decode("Zm9v") == Array("foo".utf8))
        #expect(Base64Decoding.decode("Zm8") == Array("fo".utf8))
        #expect(Base64Decoding.decode("Zm9v!") == nil)
        #expect(Base64Decoding.decode("Zg==Zg") == nil)
    }

    @Test("JSON parsing: escapes, numbers, nesting, errors")
    func json() throws {
        let value = try JSONValue.parse(Array(#" {"a":[1,-2.5e3,true,false,null],"b":"x\"\\\u00e9\ud83d\ude00\n"} "#.utf8))
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(value["b"]?.text == "x\"\\é😀\n")
        #expect(throws: DriverError.self) { try JSONValue.parse(Array("{\"a\":}".utf8)) }
        #expect(throws: DriverError.self) { try JSONValue.parse(Array("[1,2".utf8)) }
        #expect(throws: DriverError.self) { try JSONValue.parse(Array("{} x".utf8)) }
    }
}
