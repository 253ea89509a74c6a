/// What opening a ``LogEngine`` found on disk.
public struct LogRecoveryReport: Sendable {
    /// One segment file.
    public struct Segment: Sendable, Equatable {
        /// Its id (the number in its name).
        public var id: UInt64
        /// Its path.
        public var path: String
        /// Its size in bytes.
        public var fileSize: Int
        /// Offset after its last complete batch.
        public var dataEnd: Int
        /// Records in complete batches.
        public var records: Int
        /// Records still live after recovery (every region's current state needs them).
        public var liveBytes: Int
    }

    /// The last batch of the newest segment, cut off because a crash interrupted its write.
    public struct InterruptedWrite: Sendable, Equatable {
        /// The segment file.
        public var path: String
        /// Where the batch started; the log continues from here.
        public var offset: Int
        /// Bytes discarded (zeroed on a read-write open).
        public var discardedBytes: Int
        /// What did not check out.
        public var reason: String
    }

    /// Segments holding data, in order.
    public var segments: [Segment] = []
    /// Segment files that held no data (prepared ahead, or an unfinished preparation).
    public var emptySegments: [String] = []
    /// Records replayed.
    public var records = 0
    /// Batches replayed.
    public var batches = 0
    /// The interrupted last write, if the crash left one.
    public var interruptedWrite: InterruptedWrite?
    /// Damage that recovery cannot explain by an interrupted write, each naming the file and offset. An engine
    /// opens only when this is empty; ``LogEngine/check(directory:fileSystem:)`` lists all of them.
    public var problems: [String] = []
}
