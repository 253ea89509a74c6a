/// A proposed entry and the requests of its submission it answers.
struct Proposal {
    /// The entry's index and term; an entry applied at that index with another term means the proposal was
    /// dropped (a new leader overwrote it).
    var index: UInt64
    var term: UInt64
    /// The submission it belongs to.
    var submission: SubmissionInFlight
    /// The requests of the submission this entry covers, in order: its writes and the reads among them.
    var requests: Range<Int>
}
