import KVProtocol
import KVServer

/// A submission whose answers are being gathered; complete once every part has been applied.
final class SubmissionInFlight {
    let submission: WriteSubmission
    var responses: [Response?]
    var partsLeft: Int

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
