import Foundation
import KVProtocol
import KVServer
import KVTestSupport
import RaftStore

/// Small, fast settings: 64 KiB log segments, tiny timing.
func testOptions() -> RaftStoreOptions {
    var options = RaftStoreOptions()
    options.log.segmentSize = 64 << 10
    options.tickMilliseconds = 20
    return options
}

/// Opens a store and waits until it serves.
func openStore(_ path: String, _ options: RaftStoreOptions = testOptions()) throws -> RaftStore {
    let store = try RaftStore(directory: path, options: options, helloWords: ["kvnode", "test"])
    guard store.waitUntilReady(timeout: 30) else { throw StoreTestError.notReady }
    return store
}

enum StoreTestError: Error {
    case notReady
}

extension RaftStore {
    /// Submits requests and waits for their answers.
    func run(_ requests: [Request]) -> [Response] {
        let done = DispatchSemaphore(value: 0)
        let answers = NSLock()
        nonisolated(unsafe) var result: [Response] = []
        submit(WriteSubmission(requests: requests) { responses in
            answers.withLock { result = responses }
            done.signal()
        })
        done.wait()
        return answers.withLock { result }
    }

    /// Submits many submissions at once and waits for all of them.
    func runConcurrently(_ submissions: [[Request]]) -> [[Response]] {
        let group = DispatchGroup()
        let lock = NSLock()
        nonisolated(unsafe) var results = Array(repeating: [Response](), count: submissions.count)
        for (i, requests) in submissions.enumerated() {
            group.enter()
            submit(WriteSubmission(requests: requests) { responses in
                lock.withLock { results[i] = responses }
                group.leave()
            })
        }
        group.wait()
        return lock.withLock { results }
    }

    /// A `STATS` field.
    func stat(_ name: String) -> String? {
        guard case .ok(let words) = read([.stats])[0] else { return nil }
        return words.first { $0.hasPrefix(name + "=") }.map { String($0.dropFirst(name.count + 1)) }
    }
}
