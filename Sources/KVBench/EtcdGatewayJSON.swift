import KVCommandLine

/// The request bodies and answer shapes of etcd's v3 JSON gateway (`/v3/kv/range`, `/v3/kv/put`,
/// `/v3/kv/txn`), kept apart from the I/O so they can be tested.
///
/// The gateway maps the gRPC messages to JSON with protobuf's rules: byte fields (keys, values) are base64,
/// 64-bit integers are strings, fields at their default value are left out (a missing `kvs` is no match, a
/// missing `succeeded` is `false`).
public enum EtcdGatewayJSON {
    /// One key-value pair of a range answer.
    public struct KeyValue: Sendable, Hashable {
        /// The key.
        public var key: [UInt8]
        /// The value.
        public var value: [UInt8]
        /// The revision of the key's last change, for optimistic transactions.
        public var modRevision: Int64

        /// Creates a pair.
        public init(key: [UInt8], value: [UInt8], modRevision: Int64) {
            self.key = key
            self.value = value
            self.modRevision = modRevision
        }
    }

    /// A `RangeRequest` for one key, or for `[key, rangeEnd)` with at most `limit` pairs.
    public static func range(key: [UInt8], rangeEnd: [UInt8]? = nil, limit: Int? = nil) -> [UInt8] {
        var object = JSONLine()
        object.add("key", Base64.encode(key))
        if let rangeEnd { object.add("range_end", Base64.encode(rangeEnd)) }
        if let limit { object.add("limit", String(limit)) }
        return Array(object.text.utf8)
    }

    /// A `PutRequest`.
    public static func put(key: [UInt8], value: [UInt8]) -> [UInt8] {
        Array(putObject(key: key, value: value).utf8)
    }

    /// A `TxnRequest` that writes `puts` if every key in `compares` still has the given modification revision
    /// (0 for a key that must not exist).
    public static func conditionalPut(
        compares: [(key: [UInt8], modRevision: Int64)], puts: [(key: [UInt8], value: [UInt8])]
    ) -> [UInt8] {
        let compareList = compares.map { compare in
            var object = JSONLine()
            object.add("key", Base64.encode(compare.key))
            object.add("target", "MOD")
            object.add("result", "EQUAL")
            object.add("mod_revision", String(compare.modRevision))
            return object.text
        }
        let success = puts.map { "{\"request_put\":\(putObject(key: $0.key, value: $0.value))}" }
        var object = JSONLine()
        object.addRaw("compare", json: "[" + compareList.joined(separator: ",") + "]")
        object.addRaw("success", json: "[" + success.joined(separator: ",") + "]")
        return Array(object.text.utf8)
    }

    /// A `TxnRequest` with no condition that reads each of `keys` (one round trip for several reads).
    public static func readAll(_ keys: [[UInt8]]) -> [UInt8] {
        let success = keys.map { "{\"request_range\":{\"key\":\(JSONLine.quote(Base64.encode($0)))}}" }
        var object = JSONLine()
        object.addRaw("success", json: "[" + success.joined(separator: ",") + "]")
        return Array(object.text.utf8)
    }

    /// The pairs of a `RangeResponse` (empty when none matched).
    ///
    /// - Throws: ``DriverError`` of kind badResponse when the answer is not a range response.
    public static func keyValues(inRange response: JSONValue) throws(DriverError) -> [KeyValue] {
        guard case .object = response else { throw DriverError(.badResponse, "etcd range answer is not an object") }
        guard let list = response["kvs"] else { return [] }
        guard let items = list.elements else { throw DriverError(.badResponse, "etcd range answer: kvs is not a list") }
        var pairs: [KeyValue] = []
        pairs.reserveCapacity(items.count)
        for item in items {
            guard let keyText = item["key"]?.text, let key = Base64Decoding.decode(keyText) else {
                throw DriverError(.badResponse, "etcd range answer: a pair without a base64 key")
            }
            // An empty value is left out of the JSON entirely.
            let valueText = item["value"]?.text ?? ""
            guard let value = Base64Decoding.decode(valueText) else {
                throw DriverError(.badResponse, "etcd range answer: value is not base64")
            }
            let revision = item["mod_revision"]?.text.flatMap { Int64($0) } ?? 0
            pairs.append(KeyValue(key: key, value: value, modRevision: revision))
        }
        return pairs
    }

    /// Whether a `TxnResponse` took its success branch, and the range answers inside it.
    ///
    /// - Throws: ``DriverError`` of kind badResponse when the answer is not a transaction response.
    public static func transaction(_ response: JSONValue) throws(DriverError) -> (succeeded: Bool, ranges: [[KeyValue]]) {
        guard case .object = response else { throw DriverError(.badResponse, "etcd txn answer is not an object") }
        let succeeded: Bool
        switch response["succeeded"] {
        case .bool(let flag)?: succeeded = flag
        case nil: succeeded = false
        default: throw DriverError(.badResponse, "etcd txn answer: succeeded is not a boolean")
        }
        var ranges: [[KeyValue]] = []
        for item in response["responses"]?.elements ?? [] {
            if let range = item["response_range"] { ranges.append(try keyValues(inRange: range)) }
        }
        return (succeeded, ranges)
    }

    /// The error of a non-200 gateway answer: `{"error": …, "code": n, "message": …}`.
    public static func error(status: Int, body: [UInt8]) -> DriverError {
        let parsed = try? JSONValue.parse(body)
        let message = parsed?["message"]?.text ?? parsed?["error"]?.text ?? String(decoding: body.prefix(200), as: UTF8.self)
        let code = parsed?["code"]?.text.map { "grpc-\($0)" } ?? "http-\(status)"
        return DriverError(.server("etcd-\(code)"), "etcd answered \(status): \(message)")
    }

    private static func putObject(key: [UInt8], value: [UInt8]) -> String {
        var object = JSONLine()
        object.add("key", Base64.encode(key))
        object.add("value", Base64.encode(value))
        return object.text
    }
}
