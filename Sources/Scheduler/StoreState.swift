import KVProtocol

/// What the scheduler knows of one store: its registration and its last heartbeat.
public struct StoreState: Sendable, Hashable {
    /// Whether a store is heard from.
    public enum Health: String, Sendable {
        /// Heartbeats arrive.
        case up
        /// Silent for longer than the disconnect time: probably restarting or cut off.
        case disconnected
        /// Silent for longer than the max store down time: its replicas are replaced elsewhere.
        case down
    }

    /// Whether the store is being removed: its replicas move elsewhere and it gets no new ones.
    public var isRemoving = false
    /// Id and address.
    public var descriptor: StoreDescriptor
    /// The last heartbeat's report, if one came since the scheduler started.
    public var lastHeartbeat: StoreHeartbeat?
    /// When the store was last heard from (monotonic milliseconds); the scheduler's start for stores loaded
    /// from disk, so a restarted scheduler gives them the disconnect time to check in.
    public var lastSeen: UInt64

    /// Creates a store's state.
    public init(isRemoving: Bool = false, descriptor: StoreDescriptor, lastHeartbeat: StoreHeartbeat?, lastSeen: UInt64) {
        self.isRemoving = isRemoving
        self.descriptor = descriptor
        self.lastHeartbeat = lastHeartbeat
        self.lastSeen = lastSeen
    }

    /// The store's health at `now`.
    public func health(at now: UInt64, options: SchedulerOptions) -> Health {
        let silence = now >= lastSeen ? now - lastSeen : 0
        if silence >= options.maxStoreDownTime { return .down }
        if silence >= options.storeDisconnectTime { return .disconnected }
        return .up
    }
}
