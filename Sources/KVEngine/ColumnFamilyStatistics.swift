/// The B-tree statistics of one column family, as `mdb_stat` reports them.
public struct ColumnFamilyStatistics: Sendable, Hashable {
    /// The size of a database page in bytes.
    public var pageSize: Int
    /// The depth of the B-tree.
    public var depth: Int
    /// Internal (non-leaf) pages.
    public var branchPages: Int
    /// Leaf pages.
    public var leafPages: Int
    /// Overflow pages, which hold values too large for a leaf.
    public var overflowPages: Int
    /// Key-value pairs.
    public var entries: Int

    /// The bytes of all pages the column family uses.
    public var bytes: Int { (branchPages + leafPages + overflowPages) * pageSize }
}

/// Facts about the whole environment, as `mdb_env_info` reports them.
public struct EnvironmentInfo: Sendable, Hashable {
    /// The current size of the memory map in bytes.
    public var mapSize: Int
    /// The number of the last page in use; `(lastPage + 1) * pageSize` bytes of the file hold data.
    public var lastPage: Int
    /// The id of the last committed transaction.
    public var lastTransaction: Int
    /// The most readers allowed at once.
    public var maxReaders: Int
    /// The reader slots in use.
    public var readers: Int
}
