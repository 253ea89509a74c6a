import KVProtocol
import KVServer

/// A submission whose answers are being gathered; complete once every part has been applied.
final class SubmissionInFlight {
    let submission: WriteSubmission
    var responses: [Response?]
    var partsLeft: Int
    /// For reads only: the log index the region must have applied before they are answered, at least — the
    /// last entry proposed when they arrived, so that they see writes sent before them on their connection
    /// (a ReadIndex alone only covers what was committed).
    var readFloor: UInt64 = 0

    init(_ submission: WriteSubmission, parts: Int) {
        self.submission = submission
        responses = Array(repeating: nil, count: submission.requests.count)
        partsLeft = parts
    }

    /// Fills every answer still missing with `response`.
    func fail(_ response: Response) {
        for i in responses.indices where responses[i] == nil { responses[i] = response }
        partsLeft = 0
    }

    func complete() {
        submission.complete(responses.map { $0 ?? .error(ProtocolError(.internalError, "request was not answered")) })
    }
}
