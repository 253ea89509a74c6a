/// The `name=value` words that scheduler requests and answers carry, each value escaped as a token of its own.
///
/// `id=7 start=a%20b end= peers=4:1,5:2` parses into four fields. The name ends at the first `=`, so a value
/// may hold any byte (escaped); an empty value stands for the empty string.
public struct ProtocolFields: Sendable, Hashable {
    /// The fields in the order they came, name first.
    public private(set) var pairs: [(name: String, value: [UInt8])]

    /// No fields.
    public init() { pairs = [] }

    /// Parses words of the form `name=value`.
    ///
    /// - Throws: ``ErrorCode/badArgument`` for a word without `=`, or ``ErrorCode/badEscape`` for a bad value.
    public init(parsing words: some Sequence<ArraySlice<UInt8>>) throws(ProtocolError) {
        pairs = []
        for word in words {
            guard let equals = word.firstIndex(of: 0x3D), equals > word.startIndex else {
                throw ProtocolError(
                    .badArgument, "expected name=value, got '\(ProtocolToken.encodeString(word.prefix(32)))'")
            }
            let name = String(decoding: word[word.startIndex..<equals], as: UTF8.self)
            pairs.append((name, try ProtocolToken.decode(word[(equals + 1)...])))
        }
    }

    /// Parses the words of an `OK` answer or a record row.
    ///
    /// - Throws: ``ErrorCode/badArgument`` or ``ErrorCode/badEscape``.
    public init(parsing words: [String]) throws(ProtocolError) {
        try self.init(parsing: words.map { Array($0.utf8)[...] })
    }

    /// Adds a field holding bytes.
    public mutating func append(_ name: String, bytes: [UInt8]) {
        pairs.append((name, bytes))
    }

    /// Adds a field holding text.
    public mutating func append(_ name: String, _ text: String) {
        pairs.append((name, Array(text.utf8)))
    }

    /// Adds a field holding a number.
    public mutating func append(_ name: String, _ number: some BinaryInteger) {
        pairs.append((name, Array(String(number).utf8)))
    }

    /// Appends the fields to a line, each as a space and `name=value`.
    public func append(to line: inout [UInt8]) {
        for pair in pairs {
            line.append(0x20)
            line.append(contentsOf: pair.name.utf8)
            line.append(0x3D)
            ProtocolToken.append(pair.value, to: &line)
        }
    }

    /// The encoded words, ready for ``Response/ok(_:)`` or a request line.
    public var words: [String] {
        pairs.map { "\($0.name)=" + ProtocolToken.encodeString($0.value) }
    }

    /// The bytes of the first field called `name`, if any.
    public subscript(name: String) -> [UInt8]? {
        pairs.first { $0.name == name }?.value
    }

    /// The bytes of a field that must be present.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when it is missing.
    public func bytes(_ name: String) throws(ProtocolError) -> [UInt8] {
        guard let value = self[name] else { throw ProtocolError(.badArgument, "missing field \(name)=") }
        return value
    }

    /// The text of a field that must be present.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when it is missing.
    public func text(_ name: String) throws(ProtocolError) -> String {
        String(decoding: try bytes(name), as: UTF8.self)
    }

    /// A field that must hold an unsigned decimal number.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when it is missing or not a number.
    public func number(_ name: String) throws(ProtocolError) -> UInt64 {
        guard let value = UInt64(String(decoding: try bytes(name), as: UTF8.self)) else {
            throw ProtocolError(.badArgument, "field \(name)= must be an unsigned decimal number")
        }
        return value
    }

    /// An optional field holding an unsigned decimal number, `fallback` when absent.
    ///
    /// - Throws: ``ErrorCode/badArgument`` when present but not a number.
    public func number(_ name: String, default fallback: UInt64) throws(ProtocolError) -> UInt64 {
        self[name] == nil ? fallback : try number(name)
    }
}

extension ProtocolFields {
    public static func == (lhs: ProtocolFields, rhs: ProtocolFields) -> Bool {
        lhs.pairs.count == rhs.pairs.count
            && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func hash(into hasher: inout Hasher) {
        for pair in pairs {
            hasher.combine(pair.name)
            hasher.combine(pair.value)
        }
    }
}
