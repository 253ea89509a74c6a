/// The answer to `TMGET` (``TxnRequest/batchGet(keys:startTS:)``): the snapshot's timestamp, then one row per
/// key asked for, in order — `ROW start_ts=N`, `ROW key value` or `ROW key` (absent), `END`.
public struct TxnBatchRead: Sendable, Hashable {
    /// Keys one `TMGET` may read.
    public static let maxKeys = 1_024

    /// The timestamp the values were read at (the one the node took, for `TMGET 0`).
    public var startTS: UInt64
    /// Each key asked for and its value, nil when absent.
    public var rows: [ScanRow]

    /// An answer.
    public init(startTS: UInt64, rows: [ScanRow]) {
        self.startTS = startTS
        self.rows = rows
    }

    /// The answer on the wire.
    public var response: Response {
        var first = Array("start_ts=".utf8)
        ProtocolToken.appendDecimal(startTS, to: &first)
        var all = [ScanRow(key: first, value: nil)]
        all.append(contentsOf: rows)
        return .rows(all, more: false)
    }

    /// Reads an answer back.
    ///
    /// - Throws: ``ProtocolError`` `BAD_RESPONSE` when `response` is not a `TMGET` answer for `keys`.
    public init(parsing response: Response, keys: [[UInt8]]) throws(ProtocolError) {
        guard case .rows(let rows, false) = response, let first = rows.first, first.value == nil,
            first.key.starts(with: "start_ts=".utf8),
            let startTS = UInt64(String(decoding: first.key.dropFirst(9), as: UTF8.self)),
            rows.count == keys.count + 1, zip(rows.dropFirst(), keys).allSatisfy({ $0.key == $1 })
        else {
            throw ProtocolError(.badResponse, "not an answer to TMGET of \(keys.count) keys")
        }
        self.init(startTS: startTS, rows: Array(rows.dropFirst()))
    }
}
