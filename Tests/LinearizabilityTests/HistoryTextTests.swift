import Linearizability
import XCTest

final class HistoryTextTests: XCTestCase {
    func testRoundTrip() throws {
        let history = History([
            .write(client: 1, key: "k", value: "v1", invokedAt: 0, completedAt: 10),
            .read(client: 2, key: "k", observed: nil, invokedAt: 5, completedAt: 15),
            .read(client: 2, key: "k", observed: "v1", invokedAt: 20, completedAt: 25),
            .delete(client: 3, key: "k", invokedAt: 30, completedAt: nil),
            .write(client: 4, key: ByteString([0, 255]), value: "nil", invokedAt: 40, completedAt: nil),
            .write(client: 4, key: "hex:41", value: ByteString([]), invokedAt: 50, completedAt: 60),
        ])
        XCTAssertEqual(history.text, """
            1 0 10 put k v1
            2 5 15 get k nil
            2 20 25 get k v1
            3 30 ? delete k
            4 40 ? put hex:00ff hex:6e696c
            4 50 60 put hex:6865783a3431 hex:

            """)
        XCTAssertEqual(try History(parsing: history.text), history)
    }

    func testCommentsBlankLinesAndTabsAreAccepted() throws {
        let history = try History(parsing: "# header\n\n1\t0 10  put k v\r\n")
        XCTAssertEqual(history.operations, [.write(client: 1, key: "k", value: "v", invokedAt: 0, completedAt: 10)])
    }

    func testErrorsNameTheLine() {
        let cases: [(String, HistoryParseError)] = [
            ("1 0 10 put k", .wrongFieldCount(line: 2, expected: 6, found: 5)),
            ("1 0 10 delete k v", .wrongFieldCount(line: 2, expected: 5, found: 6)),
            ("1 0 10 get", .wrongFieldCount(line: 2, expected: 5, found: 4)),
            ("x 0 10 get k nil", .invalidClient(line: 2, token: "x")),
            ("1 -5 10 get k nil", .invalidTime(line: 2, token: "-5")),
            ("1 0 soon get k nil", .invalidTime(line: 2, token: "soon")),
            ("1 10 5 get k nil", .completionBeforeInvocation(line: 2)),
            ("1 0 10 cas k v", .unknownCommand(line: 2, token: "cas")),
            ("1 0 10 put k hex:abc", .invalidHexToken(line: 2, token: "hex:abc")),
        ]
        for (badLine, expected) in cases {
            XCTAssertThrowsError(try History(parsing: "1 0 10 put k v\n" + badLine)) { error in
                XCTAssertEqual(error as? HistoryParseError, expected, badLine)
            }
        }
    }

    func testErrorMessageIsReadable() {
        let error = HistoryParseError.unknownCommand(line: 7, token: "cas")
        XCTAssertEqual(error.line, 7)
        XCTAssertEqual(error.description, "line 7: unknown command 'cas' (expected put, get or delete)")
    }
}
