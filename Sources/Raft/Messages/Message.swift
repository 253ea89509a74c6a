/// A message between two Raft peers. Which fields are meaningful depends on ``kind``.
///
/// The caller delivers messages from ``Ready/messages`` to the node named in ``to`` and passes received
/// ones to ``RaftNode/step(_:)``. Messages may be lost, duplicated or reordered; Raft tolerates all three.
public struct Message {
    /// What the message asks or answers.
    public var kind: MessageKind
    /// Sender id.
    public var from: UInt64
    /// Recipient id.
    public var to: UInt64
    /// Sender's term (for pre-vote requests, the term the sender would campaign in).
    public var term: UInt64
    /// Term of the entry at `index` (append, votes, reject hints).
    public var logTerm: UInt64
    /// A log index whose meaning depends on the kind.
    public var index: UInt64
    /// Entries to append.
    public var entries: [Entry]
    /// Sender's commit index.
    public var commit: UInt64
    /// Whether a response refuses the request.
    public var reject: Bool
    /// With a rejected append: the follower's guess at the last index that may match.
    public var rejectHint: UInt64
    /// The snapshot of a ``MessageKind/snapshot`` message.
    public var snapshot: Snapshot?
    /// Opaque request context (ReadIndex).
    public var context: [UInt8]
    /// Set on vote requests sent because of a leader transfer: voters then ignore their leader lease.
    public var leaderTransfer: Bool

    /// Creates a message; every field but the kind defaults to zero or empty.
    ///
    /// - Parameters:
    ///   - kind: the message kind.
    ///   - from: sender.
    ///   - to: recipient.
    ///   - term: sender's term.
    ///   - logTerm: term at `index`.
    ///   - index: a log index.
    ///   - entries: entries to append.
    ///   - commit: commit index.
    ///   - reject: response refuses.
    ///   - rejectHint: conflict hint.
    ///   - snapshot: snapshot to install.
    ///   - context: request context.
    ///   - leaderTransfer: vote requested for a leader transfer.
    public init(
        kind: MessageKind,
        from: UInt64 = 0,
        to: UInt64 = 0,
        term: UInt64 = 0,
        logTerm: UInt64 = 0,
        index: UInt64 = 0,
        entries: [Entry] = [],
        commit: UInt64 = 0,
        reject: Bool = false,
        rejectHint: UInt64 = 0,
        snapshot: Snapshot? = nil,
        context: [UInt8] = [],
        leaderTransfer: Bool = false
    ) {
        self.kind = kind
        self.from = from
        self.to = to
        self.term = term
        self.logTerm = logTerm
        self.index = index
        self.entries = entries
        self.commit = commit
        self.reject = reject
        self.rejectHint = rejectHint
        self.snapshot = snapshot
        self.context = context
        self.leaderTransfer = leaderTransfer
    }
}

// MARK: - Equatable

extension Message: Equatable {}

// MARK: - Sendable

extension Message: Sendable {}

// MARK: - CustomStringConvertible

extension Message: CustomStringConvertible {
    /// A compact one-line rendering for logs and test failures.
    public var description: String {
        var s = "\(kind) \(from)->\(to) t\(term)"
        switch kind {
        case .append:
            s += " prev=\(index)/\(logTerm) n=\(entries.count) commit=\(commit)"
        case .appendResponse:
            s += reject ? " reject=\(index) hint=\(rejectHint)/\(logTerm)" : " index=\(index)"
        case .requestVote, .requestPreVote:
            s += " last=\(index)/\(logTerm)" + (leaderTransfer ? " transfer" : "")
        case .requestVoteResponse, .requestPreVoteResponse:
            s += reject ? " rejected" : " granted"
        case .heartbeat:
            s += " commit=\(commit)"
        case .snapshot:
            s += " snap=\(snapshot?.metadata.index ?? 0)/\(snapshot?.metadata.term ?? 0)"
        case .readIndexResponse:
            s += " index=\(index)"
        case .heartbeatResponse, .timeoutNow, .readIndex:
            break
        }
        return s
    }
}
