import KVProtocol

/// A failure talking to a node.
public struct KVClientError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure, for deciding what to do (and for `kvctl`'s exit code).
    public enum Kind: Sendable, Hashable {
        /// The address could not be parsed.
        case invalidAddress
        /// No connection could be made (refused, no such socket, no route).
        case unreachable
        /// The node did not answer in time.
        case timeout
        /// The node closed the connection before answering.
        case connectionClosed
        /// The node answered `ERR`.
        case server(ErrorCode)
        /// The node's answer was not valid protocol, or not the kind expected.
        case badResponse
        /// A write was sent but its answer never came (connection lost, leadership changed, deadline passed):
        /// it may or may not have been applied. Read the key to find out.
        case outcomeUnknown
    }

    /// The kind of failure.
    public let kind: Kind
    /// A one-line explanation.
    public let message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// An error for an `ERR` answer.
    public init(_ error: ProtocolError) {
        self.init(.server(error.code), "\(error.code.rawValue) \(error.message)")
    }

    public var description: String { message }
}

extension KVClientError {
    /// The server's error code, if the server answered `ERR`.
    public var code: ErrorCode? {
        if case .server(let code) = kind { return code }
        return nil
    }

    /// Whether the error is about reaching the other side (unreachable, timed out, connection closed) rather
    /// than an answer it gave.
    public var isConnectionFailure: Bool {
        switch kind {
        case .unreachable, .timeout, .connectionClosed: true
        default: false
        }
    }
}
