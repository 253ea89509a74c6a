import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates the next segment file in the background: header, zeros to the full size, `fdatasync`, then a
/// directory sync, so that the writer never waits for a file to grow (a write that changes a file's size
/// costs the journal a metadata update on every `fdatasync`).
///
/// The zeros go one memory page per write. The page cache keeps what a write brings in as one folio sized
/// by that write (Linux 6.x, large folios on ext4), and writeback writes a dirty folio whole: zeros written
/// 1 MiB at a time left the segment in large folios, so each later append of a kilobyte or two made its
/// `fdatasync` write back hundreds of kilobytes (README has the measurements). Page-sized folios keep a
/// sync's writeback to the pages its batch touched.
final class SegmentPreallocator: Sendable {
    private let directory: String
    private let size: Int
    private let fileSystem: any LogFileSystem
    private let queue = DispatchQueue(label: "kvstore.log.preallocate")
    /// Outcome per segment id of preparations that finished.
    private let results = Mutex<[UInt64: Result<Void, LogEngineError>]>([:])

    private let background: Bool

    /// Bytes of zeros per write: a memory page (see the type's documentation).
    static let zeroWriteSize = max(4096, sysconf(Int32(_SC_PAGESIZE)))

    /// Writes zeros over `start..<end` of `file`, a page per write on page boundaries (not synced).
    ///
    /// - Throws: ``LogEngineError`` from the writes.
    static func writeZeros(to file: any LogFile, from start: Int, to end: Int) throws {
        let zeros = [UInt8](repeating: 0, count: zeroWriteSize)
        var offset = start
        while offset < end {
            let count = min(zeroWriteSize - offset % zeroWriteSize, end - offset)
            try zeros.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[..<count]), at: offset) }
            offset += count
        }
    }

    init(directory: String, size: Int, fileSystem: any LogFileSystem, background: Bool) {
        self.directory = directory
        self.size = size
        self.fileSystem = fileSystem
        self.background = background
    }

    /// Starts creating segment `id` in the background (or, without a background, when it is taken).
    func prepare(_ id: UInt64) {
        guard background else { return }
        queue.async { [self] in
            let result = Result { () throws(LogEngineError) in try create(id) }
            results.withLock { $0[id] = result }
        }
    }

    /// Waits for segment `id` to be ready, creating it now if nobody asked for it.
    ///
    /// - Throws: ``LogEngineError`` when the file could not be created (a full disk, say).
    func take(_ id: UInt64) throws {
        queue.sync {}  // the serial queue runs earlier preparations first
        let result = results.withLock { $0.removeValue(forKey: id) }
        switch result {
        case .success?: return
        case .failure(let error)?: throw error
        case nil: try create(id)
        }
    }

    /// Waits for background work to finish.
    func drain() {
        queue.sync {}
    }

    private func create(_ id: UInt64) throws(LogEngineError) {
        let path = directory + "/" + LogFormat.segmentName(id)
        do {
            try? fileSystem.removeFile(path)  // a leftover of an interrupted preparation
            let file = try fileSystem.openFile(path, mode: .create)
            defer { file.close() }
            try file.write(LogFormat.segmentHeader(id: id), at: 0)
            try Self.writeZeros(to: file, from: LogFormat.segmentHeaderSize, to: size)
            try file.sync()
            try fileSystem.syncDirectory(directory)
        } catch let error as LogEngineError {
            throw error
        } catch {
            throw LogEngineError(.io(0), "cannot prepare \(path): \(error)")
        }
    }
}
