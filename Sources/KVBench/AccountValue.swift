import KVProtocol

/// Account balances for the `txn-transfer` workload: `<key>#<balance>` in decimal, so a read can tell that
/// the value belongs to its key and holds a number.
public enum AccountValue {
    /// The balance every account starts with.
    public static let initialBalance = 1_000

    /// The value of account `key` holding `balance`.
    public static func make(key: [UInt8], balance: Int) -> [UInt8] {
        var value = key
        value.append(0x23)
        if balance < 0 { value.append(0x2D) }
        ProtocolToken.appendDecimal(UInt64(balance.magnitude), to: &value)
        return value
    }

    /// The balance in a value read under `key`, or `nil` when the value is not a balance of that key.
    public static func balance(in value: [UInt8], key: [UInt8]) -> Int? {
        guard value.count > key.count + 1, value.starts(with: key), value[key.count] == 0x23 else { return nil }
        return Int(String(decoding: value[(key.count + 1)...], as: UTF8.self))
    }
}
