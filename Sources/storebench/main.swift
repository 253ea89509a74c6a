// storebench: the raftstore's own cost per write, without the network: submissions from in-process threads
// straight into a standalone RaftStore (proposal, one log write + fdatasync per round, apply, answer).
//
//   swift build -c release --product storebench
//   .build/release/storebench --dir /tmp/sb --writes 100000 --writers 1     # one write per round
//   .build/release/storebench --dir /dev/shm/sb --writes 100000 --writers 16  # tmpfs: no device flush at all
//
// Each writer submits one PUT at a time and waits for its answer, like a closed-loop client, and offers its own
// thread to run the store's turn (as kvnode's event loops do), so an idle store costs no thread hand-off;
// --store-thread-only leaves every round to the store's own thread.
import Dispatch
import Foundation
import KVProtocol
import KVServer
import RaftStore

var directory = "/tmp/storebench"
var writes = 100_000
var writers = 1
var valueSize = 100
var storeThreadOnly = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--dir": directory = arguments.popFirst() ?? directory
    case "--writes": writes = Int(arguments.popFirst() ?? "") ?? writes
    case "--writers": writers = Int(arguments.popFirst() ?? "") ?? writers
    case "--value-size": valueSize = Int(arguments.popFirst() ?? "") ?? valueSize
    case "--store-thread-only": storeThreadOnly = true
    default:
        FileHandle.standardError.write(
            "usage: storebench [--dir D] [--writes N] [--writers W] [--value-size B] [--store-thread-only]\n".data(using: .utf8)!)
        exit(2)
    }
}
try? FileManager.default.removeItem(atPath: directory)
let store = try RaftStore(directory: directory)
guard store.waitUntilReady(timeout: 30) else { fatalError("the store did not become ready") }
let value = [UInt8](repeating: 0x61, count: valueSize)
let runHere: @Sendable (@escaping @Sendable () -> Void) -> Void = { $0() }
let schedule = storeThreadOnly ? nil : runHere
let perWriter = writes / writers
let start = Date()
// Threads of their own: concurrentPerform would run only as many writers at once as there are cores.
let finished = DispatchGroup()
for writer in 0..<writers {
    finished.enter()
    Thread {
    defer { finished.leave() }
    let done = DispatchSemaphore(value: 0)
    for i in 0..<perWriter {
        store.submit(WriteSubmission(
            requests: [.put(key: Array("w\(writer)-\(i)".utf8), value: value)], scheduleOnSubmitter: schedule
        ) { _ in done.signal() })
        done.wait()
    }
    }.start()
}
finished.wait()
let seconds = Date().timeIntervalSince(start)
let total = perWriter * writers
let syncs = store.log.statistics.syncs.load(ordering: .relaxed)
print(String(format: "%d writes by %d writer(s) in %.2f s: %.0f writes/s, %.1f us per write, %d log syncs (%.1f writes each)",
             total, writers, seconds, Double(total) / seconds, seconds * 1e6 / Double(total) * Double(writers), syncs,
             Double(total) / Double(max(1, syncs))))
store.close()
try? FileManager.default.removeItem(atPath: directory)
