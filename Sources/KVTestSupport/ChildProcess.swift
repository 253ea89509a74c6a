import Foundation

/// A process a test started, with its output captured to files, stopped for sure by ``stop()`` or deinit.
public final class ChildProcess: @unchecked Sendable {
    /// The running process.
    public let process: Process
    /// Where its stdout goes.
    public let standardOutputPath: String
    /// Where its stderr goes.
    public let standardErrorPath: String

    /// Starts `executable` with `arguments`, output to files in `directory`.
    ///
    /// - Parameters:
    ///   - executable: Path to the program.
    ///   - arguments: Its arguments.
    ///   - directory: Where the output files go.
    ///   - name: A name for the output files.
    ///   - standardInput: Bytes to feed on stdin (then closed), or `nil` for /dev/null.
    ///   - environment: Extra environment variables.
    public init(
        _ executable: String, _ arguments: [String], directory: String, name: String,
        standardInput: [UInt8]? = nil, environment: [String: String] = [:]
    ) throws {
        standardOutputPath = "\(directory)/\(name).out"
        standardErrorPath = "\(directory)/\(name).err"
        _ = FileManager.default.createFile(atPath: standardOutputPath, contents: nil)
        _ = FileManager.default.createFile(atPath: standardErrorPath, contents: nil)
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: standardOutputPath)
        process.standardError = FileHandle(forWritingAtPath: standardErrorPath)
        var merged = ProcessInfo.processInfo.environment
        merged.removeValue(forKey: "KV_NODE")
        for (key, value) in environment { merged[key] = value }
        process.environment = merged
        let input = Pipe()
        process.standardInput = standardInput == nil ? FileHandle.nullDevice : input
        try process.run()
        if let standardInput {
            let handle = input.fileHandleForWriting
            DispatchQueue.global().async {
                try? handle.write(contentsOf: Data(standardInput))
                try? handle.close()
            }
        }
    }

    deinit {
        stop(signal: SIGKILL)
    }

    /// What the process wrote to stdout so far.
    public var standardOutput: [UInt8] {
        (FileManager.default.contents(atPath: standardOutputPath).map { [UInt8]($0) }) ?? []
    }

    /// What the process wrote to stderr so far, as text.
    public var standardError: String {
        String(decoding: (FileManager.default.contents(atPath: standardErrorPath)) ?? Data(), as: UTF8.self)
    }

    /// Waits until stdout holds a line starting with `prefix`, and returns that line.
    ///
    /// - Parameters:
    ///   - prefix: The start of the line.
    ///   - timeout: Seconds to wait.
    /// - Returns: The line, or `nil` if the process exited or time ran out first.
    public func waitForLine(startingWith prefix: String, timeout: Double = 30) -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let text = String(decoding: standardOutput, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) { return String(line) }
            if !process.isRunning { return nil }
            usleep(20_000)
        }
        return nil
    }

    /// Waits for the process to exit.
    ///
    /// - Parameter timeout: Seconds to wait before killing it.
    /// - Returns: Its exit status, or `nil` if it had to be killed.
    @discardableResult
    public func waitForExit(timeout: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            stop(signal: SIGKILL)
            return nil
        }
        return process.terminationStatus
    }

    /// Sends `signal` (SIGKILL by default) and waits for the process to end.
    public func stop(signal: Int32 = SIGKILL) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { usleep(5_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }
}

/// The outcome of running a command to completion.
public struct CommandResult: Sendable {
    /// Exit status.
    public var status: Int32
    /// Everything written to stdout.
    public var standardOutput: [UInt8]
    /// Everything written to stderr.
    public var standardError: String

    /// stdout as text.
    public var text: String { String(decoding: standardOutput, as: UTF8.self) }
}

/// Runs a command to completion (killing it after `timeout` seconds).
///
/// - Parameters:
///   - executable: Path to the program.
///   - arguments: Its arguments.
///   - standardInput: Bytes for stdin.
///   - environment: Extra environment variables.
///   - directory: Where to keep the output files.
///   - timeout: Seconds before it is killed.
/// - Returns: Status and output.
public func runCommand(
    _ executable: String, _ arguments: [String], standardInput: [UInt8]? = nil,
    environment: [String: String] = [:], directory: String, timeout: Double = 60
) throws -> CommandResult {
    let name = "cmd-\(UInt32.random(in: 0...UInt32.max))"
    let child = try ChildProcess(
        executable, arguments, directory: directory, name: name, standardInput: standardInput,
        environment: environment)
    let status = child.waitForExit(timeout: timeout) ?? -9
    return CommandResult(status: status, standardOutput: child.standardOutput, standardError: child.standardError)
}
