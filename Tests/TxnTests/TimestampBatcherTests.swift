import Foundation
import KVClient
import KVProtocol
import Synchronization
import Testing

/// An oracle in memory that counts its round trips and can fail.
final class CountingOracle: TimestampSource, @unchecked Sendable {
    private let state = Mutex((next: UInt64(1), calls: 0, failNext: false))

    var calls: Int { state.withLock { $0.calls } }
    func failNextCall() { state.withLock { $0.failNext = true } }

    func timestamps(count: Int) throws(KVClientError) -> UInt64 {
        usleep(200)  // a round trip, so that threads pile up behind it
        let outcome = state.withLock { state -> UInt64? in
            state.calls += 1
            if state.failNext {
                state.failNext = false
                return nil
            }
            defer { state.next += UInt64(count) }
            return state.next
        }
        guard let first = outcome else { throw KVClientError(.connectionClosed, "the oracle went away") }
        return first
    }
}

// Two minutes, like the other suites: the limit's clock may start while the test still waits for one of the
// cooperative pool's threads (two on a 2-core machine), which the suite's blocking cluster tests hold for
// minutes. With one minute it once ran out in a full run although the test takes 0.1 s alone.
@Suite("Timestamp batching", .timeLimit(.minutes(2)))
struct TimestampBatcherTests {
    @Test("8 threads get unique, fresh timestamps; many share a round trip; a failure reaches its batch only")
    func batching() async throws {
        let oracle = CountingOracle()
        let sources = Mutex(0)
        let batcher = TimestampBatcher { () throws(KVClientError) in
            sources.withLock { $0 += 1 }
            return oracle
        }
        let threads = 8
        let perThread = 200
        let results = Mutex<[[UInt64]]>(Array(repeating: [], count: threads))
        let group = DispatchGroup()
        for t in 0..<threads {
            group.enter()
            Thread {
                defer { group.leave() }
                var mine: [UInt64] = []
                for _ in 0..<perThread {
                    if let ts = try? batcher.next() { mine.append(ts) }
                }
                results.withLock { $0[t] = mine }
            }.start()
        }
        // Waits without holding a pool thread while the 8 threads run.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            group.notify(queue: .global()) { done.resume() }
        }
        let all = results.withLock { $0 }
        #expect(all.allSatisfy { $0.count == perThread })
        #expect(Set(all.joined()).count == threads * perThread)  // none handed out twice
        for mine in all { #expect(mine == mine.sorted()) }  // each thread's timestamps only grow
        #expect(oracle.calls < threads * perThread / 2, "\(oracle.calls) round trips for \(threads * perThread) timestamps")
        #expect(sources.withLock { $0 } == 1)

        // A failed round trip fails the threads it served, and the next one opens a new source.
        oracle.failNextCall()
        #expect(throws: KVClientError.self) { try batcher.next() }
        let after = try batcher.next()
        #expect(after > all.joined().max()!)
        #expect(sources.withLock { $0 } == 2)
    }
}
