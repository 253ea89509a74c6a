import ArgumentParser

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ParsableCommand {
    /// Parses the process arguments, runs the command and exits, the way every tool of the kit does:
    /// 0 on success; a ``ToolExit``'s own code (its message on stderr as `TOOL: message`); 2 for usage errors
    /// (argument-parser would use 64); stdout flushed first in every case.
    ///
    /// - Parameters:
    ///   - subcommands: The subcommand names, so options given before the subcommand are accepted
    ///     (see ``subcommandFirst(_:subcommands:optionsTakingValues:)``).
    ///   - optionsTakingValues: The options that take a separate value, so a value is never taken for a
    ///     subcommand name.
    ///   - nestedSubcommands: For a subcommand that is a group (`kvctl store list`), its own subcommands, so
    ///     options given before them are accepted too.
    ///   - translate: Maps other errors (e.g. a library's) to an exit; `nil` leaves them to argument-parser.
    public static func runTool(
        subcommands: Set<String> = [], optionsTakingValues: Set<String> = [],
        nestedSubcommands: [String: Set<String>] = [:],
        translate: (any Error) -> (any ToolExit)? = { _ in nil }
    ) -> Never {
        let name = configuration.commandName ?? "tool"
        do {
            var arguments = subcommandFirst(
                Array(CommandLine.arguments.dropFirst()), subcommands: subcommands,
                optionsTakingValues: optionsTakingValues)
            if let group = arguments.first, let leaves = nestedSubcommands[group] {
                arguments = [group] + subcommandFirst(
                    Array(arguments.dropFirst()), subcommands: leaves, optionsTakingValues: optionsTakingValues)
            }
            var command = try parseAsRoot(arguments)
            try command.run()
            StandardStreams.flush()
            terminate(0)
        } catch {
            StandardStreams.flush()
            if let failure = (error as? any ToolExit) ?? translate(error) {
                if !failure.message.isEmpty { StandardStreams.error("\(name): \(failure.message)") }
                terminate(failure.exitCode)
            }
            if exitCode(for: error) == .validationFailure {
                StandardStreams.error(fullMessage(for: error))
                terminate(ToolFailure.usage)
            }
            self.exit(withError: error)
        }
    }
}

/// Moves the first subcommand name to the front, so that options may come before it (`kvctl --node X get k`
/// as well as `kvctl get --node X k`): argument-parser only gives a subcommand the options after its name.
///
/// - Parameters:
///   - arguments: The arguments, without the program name.
///   - subcommands: The subcommand names.
///   - optionsTakingValues: Options whose next argument is their value (and so never a subcommand name).
/// - Returns: The arguments with the subcommand first, or unchanged when none comes after options.
public func subcommandFirst(
    _ arguments: [String], subcommands: Set<String>, optionsTakingValues: Set<String>
) -> [String] {
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        if subcommands.contains(argument) {
            guard index > 0 else { return arguments }
            var reordered = arguments
            reordered.remove(at: index)
            return [argument] + reordered
        }
        guard argument.hasPrefix("-") else { return arguments }
        if optionsTakingValues.contains(argument) { index += 1 }
        index += 1
    }
    return arguments
}

/// `exit(3)`, reachable where `ParsableCommand.exit(withError:)` hides it.
private func terminate(_ status: Int32) -> Never {
    StandardStreams.flush()
    exit(status)
}
