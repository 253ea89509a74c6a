#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The real file system: `open`, `pread`, `pwrite`, `fdatasync`, `unlink` and a directory `fsync`.
public struct PosixFileSystem: LogFileSystem {
    /// The file system of the machine.
    public init() {}

    public func listDirectory(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Self.error("cannot list \(path)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Creates missing directories, syncing each one's parent so that the new entry survives a power failure.
    public func makeDirectory(_ path: String) throws {
        var parent = path.hasPrefix("/") ? "/" : "."
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 {
                try syncDirectory(parent)
            } else if errno != EEXIST {
                throw Self.error("cannot create directory \(path)")
            }
            parent = prefix
        }
    }

    public func openFile(_ path: String, mode: LogFileMode) throws -> any LogFile {
        let flags: Int32
        switch mode {
        case .readOnly: flags = O_RDONLY | O_CLOEXEC
        case .readWrite: flags = O_RDWR | O_CLOEXEC
        case .create: flags = O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC
        }
        let fd = open(path, flags, 0o644)
        guard fd >= 0 else { throw Self.error("cannot open \(path)") }
        return PosixFile(path: path, descriptor: fd)
    }

    public func removeFile(_ path: String) throws {
        if unlink(path) != 0 { throw Self.error("cannot remove \(path)") }
    }

    public func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.error("cannot open directory \(path)") }
        defer { systemClose(fd) }
        if fsync(fd) != 0 { throw Self.error("cannot sync directory \(path)") }
    }

    /// An ``LogEngineError`` for the current `errno`.
    static func error(_ what: String) -> LogEngineError {
        let code = errno
        return LogEngineError(.io(code), "\(what): \(String(cString: strerror(code)))")
    }
}

/// A file opened by ``PosixFileSystem``.
final class PosixFile: LogFile {
    let path: String
    private var descriptor: Int32

    init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit {
        close()
    }

    func size() throws -> Int {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw PosixFileSystem.error("cannot stat \(path)") }
        return Int(info.st_size)
    }

    func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixFileSystem.error("cannot read \(path) at offset \(offset + done)")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    func write(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw PosixFileSystem.error("cannot write \(path) at offset \(offset + done)")
            }
            done += n
        }
    }

    func sync() throws {
        while fdatasync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw PosixFileSystem.error("cannot sync \(path)")
        }
    }

    func dropCachedPages() {
        #if canImport(Glibc)
        _ = posix_fadvise(descriptor, 0, 0, POSIX_FADV_DONTNEED)
        #endif
    }

    func close() {
        if descriptor >= 0 {
            systemClose(descriptor)
            descriptor = -1
        }
    }
}

/// `close(2)`, reachable from inside types whose own `close()` hides the global one.
private func systemClose(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}
