/// An error that ends a command-line tool with a chosen exit code and, unless the message is empty, one
/// line `TOOL: message` on stderr.
public protocol ToolExit: Error {
    /// The process exit status.
    var exitCode: Int32 { get }
    /// The line for stderr (without the tool's name), or empty for none.
    var message: String { get }
}

/// A plain ``ToolExit``.
public struct ToolFailure: ToolExit, Sendable {
    /// Exit status for usage errors, shared by every tool of the kit.
    public static let usage: Int32 = 2

    public let exitCode: Int32
    public let message: String

    /// Creates a failure.
    ///
    /// - Parameters:
    ///   - exitCode: The process exit status.
    ///   - message: The line for stderr, or empty.
    public init(exitCode: Int32, message: String) {
        self.exitCode = exitCode
        self.message = message
    }
}
