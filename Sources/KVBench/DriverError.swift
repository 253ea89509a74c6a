import KVProtocol
import KVClient

/// A failed operation against a store, as every driver reports it, so errors are counted alike for all
/// stores.
public struct DriverError: Error, CustomStringConvertible {
    /// What went wrong, for counting errors by kind and choosing an exit code.
    public enum Kind: Hashable {
        /// No connection could be made.
        case unreachable
        /// The store did not answer in time.
        case timeout
        /// The connection broke; the client reconnects before its next operation.
        case connectionClosed
        /// The store answered with an error; the code is the store's own word (e.g. `STORAGE`, `ERR`,
        /// `http-500`).
        case server(String)
        /// The answer could not be parsed or was not the kind expected.
        case badResponse
        /// The operation is not available against this store (yet).
        case unsupported
    }

    /// The kind of failure.
    public let kind: Kind
    /// A one-line explanation.
    public let message: String

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - kind: The kind.
    ///   - message: A one-line explanation.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Whether the connection is unusable afterwards, so the client must reconnect.
    public var breaksConnection: Bool {
        switch kind {
        case .connectionClosed, .timeout, .badResponse, .unreachable: true
        case .server, .unsupported: false
        }
    }

    /// The name errors of this kind are counted under in reports (`timeout`, `server:STORAGE`, …).
    public var tallyName: String {
        switch kind {
        case .unreachable: "unreachable"
        case .timeout: "timeout"
        case .connectionClosed: "connection-closed"
        case .server(let code): "server:\(code)"
        case .badResponse: "bad-response"
        case .unsupported: "unsupported"
        }
    }

    /// The message.
    public var description: String { message }
}

// MARK: - Sendable

extension DriverError: Sendable {}
extension DriverError.Kind: Sendable {}

// MARK: - From client errors

extension DriverError {
    /// The driver error for a client (socket or line-protocol) error.
    public init(_ error: KVClientError) {
        switch error.kind {
        case .invalidAddress, .unreachable: self.init(.unreachable, error.message)
        case .timeout: self.init(.timeout, error.message)
        case .connectionClosed: self.init(.connectionClosed, error.message)
        case .server(let code): self.init(.server(code.rawValue), error.message)
        case .badResponse: self.init(.badResponse, error.message)
        case .outcomeUnknown: self.init(.server(ErrorCode.outcomeUnknown.rawValue), error.message)
        }
    }

    /// Runs a client call, reporting its failure as a driver error.
    static func mapping<T>(_ body: () throws(KVClientError) -> T) throws(DriverError) -> T {
        do {
            return try body()
        } catch {
            throw DriverError(error)
        }
    }
}
