import Foundation

/// A flag set by one test thread and read by others.
public final class SharedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    public init() {}

    /// Whether ``set()`` was called.
    public var isSet: Bool { lock.withLock { value } }
    /// Raises the flag.
    public func set() { lock.withLock { value = true } }
}

/// Strings appended from several test threads.
public final class SharedList: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    public init() {}

    /// Appends `item`.
    public func append(_ item: String) { lock.withLock { list.append(item) } }
    /// Everything appended so far, in order.
    public var items: [String] { lock.withLock { list } }
}

/// A counter shared by test threads.
public final class SharedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    public init() {}

    /// Adds one.
    public func add() { lock.withLock { count += 1 } }
    /// The count so far.
    public var value: Int { lock.withLock { count } }
}

/// Polls `condition` every `interval` seconds until it holds or `timeout` seconds passed.
///
/// - Returns: Whether it held.
@discardableResult
public func poll(timeout: Double, every interval: Double, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(UInt32(interval * 1_000_000))
    }
    return condition()
}
