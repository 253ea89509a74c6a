import ArgumentParser

/// How a tool prints its answers: `text` for people and `awk`, `json` for programs (one object per line).
public enum OutputFormat: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Plain lines.
    case text
    /// One JSON object per line.
    case json
}
