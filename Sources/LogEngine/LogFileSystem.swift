/// The file operations the log engine uses, so that tests can put a simulated disk beneath it (one that loses
/// unsynced writes on a "power failure") and production uses ``PosixFileSystem``.
///
/// Paths are absolute or relative to the working directory, as with POSIX calls. Every failure is a
/// ``LogEngineError`` with code ``LogEngineError/Code/io(_:)`` naming the path.
public protocol LogFileSystem: Sendable {
    /// The names (not paths) of the entries of a directory.
    ///
    /// - Throws: ``LogEngineError`` when the directory cannot be read.
    func listDirectory(_ path: String) throws -> [String]

    /// Whether `path` names a directory.
    func isDirectory(_ path: String) -> Bool

    /// Creates a directory and any missing parents; an existing directory is fine.
    ///
    /// - Throws: ``LogEngineError`` when it cannot be created.
    func makeDirectory(_ path: String) throws

    /// Opens a file.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - mode: Read-only, read-write, or create (fails if it exists).
    /// - Returns: The open file; close it with ``LogFile/close()``.
    /// - Throws: ``LogEngineError`` (`ENOENT` when it does not exist and `mode` is not ``LogFileMode/create``).
    func openFile(_ path: String, mode: LogFileMode) throws -> any LogFile

    /// Removes a file. The removal is durable only after ``syncDirectory(_:)``.
    ///
    /// - Throws: ``LogEngineError``.
    func removeFile(_ path: String) throws

    /// Makes the creations and removals of files in a directory durable (`fsync` of the directory).
    ///
    /// - Throws: ``LogEngineError``.
    func syncDirectory(_ path: String) throws
}

/// How ``LogFileSystem/openFile(_:mode:)`` opens a file.
public enum LogFileMode: Sendable {
    /// Reading only.
    case readOnly
    /// Reading and writing an existing file.
    case readWrite
    /// Creating a new file for reading and writing; fails if it exists.
    case create
}

/// An open file of a ``LogFileSystem``: positional reads and writes, and `fdatasync`.
public protocol LogFile: AnyObject {
    /// The path it was opened with.
    var path: String { get }

    /// The file's size in bytes.
    ///
    /// - Throws: ``LogEngineError``.
    func size() throws -> Int

    /// Reads up to `buffer.count` bytes at `offset`.
    ///
    /// - Returns: The bytes read: fewer than asked only at the end of the file.
    /// - Throws: ``LogEngineError``.
    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int

    /// Writes all of `bytes` at `offset`, growing the file if needed. Not durable until ``sync()``.
    ///
    /// - Throws: ``LogEngineError`` (then part of `bytes` may have been written).
    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws

    /// Makes every write so far durable (`fdatasync`).
    ///
    /// - Throws: ``LogEngineError``. After a failed sync the state of the written pages is unknown (Linux may
    ///   have dropped them): the caller must not retry and assume success.
    func sync() throws

    /// Lets the operating system drop the file's clean cached pages (a hint; nothing is lost). The default
    /// does nothing.
    func dropCachedPages()

    /// Closes the file. Idempotent.
    func close()
}

extension LogFile {
    public func dropCachedPages() {}

    /// Reads exactly `count` bytes at `offset`, or fewer at the end of the file.
    ///
    /// - Throws: ``LogEngineError``.
    func read(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let got = try bytes.withUnsafeMutableBytes { try read(at: offset, into: $0) }
        if got < count { bytes.removeLast(count - got) }
        return bytes
    }

    /// Writes all of `bytes` at `offset`.
    ///
    /// - Throws: ``LogEngineError``.
    func write(_ bytes: [UInt8], at offset: Int) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }
}
