/// Versions reported by `HELLO` and `--version`.
public enum ToolkitVersion {
    /// The release of the toolkit.
    public static let release = "0.1.0"
    /// The revision of the line protocol described in `kvproto(7)`.
    public static let protocolRevision = 1
}
