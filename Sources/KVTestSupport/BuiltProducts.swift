import Foundation

/// Finds the executables (`kvnode`, `kvctl`, `kvdump`) built beside the test bundle.
public enum BuiltProducts {
    /// The directory holding the built executables: `$KV_BIN_DIR`, else the test binary's own directory.
    public static var directory: String {
        if let override = ProcessInfo.processInfo.environment["KV_BIN_DIR"], !override.isEmpty { return override }
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var url = URL(fileURLWithPath: executable).deletingLastPathComponent()
        // Inside an .xctest bundle directory (macOS layout) the products sit next to the bundle.
        while url.pathExtension == "xctest" || url.lastPathComponent == "MacOS" || url.lastPathComponent == "Contents" {
            url.deleteLastPathComponent()
        }
        return url.path
    }

    /// The path of a built executable.
    public static func path(of name: String) -> String {
        directory + "/" + name
    }
}
