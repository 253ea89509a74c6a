#if canImport(Glibc)
import Glibc
#endif
import Raft
import RaftSimulation

// raftbench: throughput of an in-memory 3-node cluster, and a seed-sweep mode for the simulator.
//
//   raftbench [--entries N] [--batch B] [--seed S] [--size BYTES]
//   raftbench --sim-seeds N [--sim-start S]     run N simulator seeds, report failures and seeds/s

struct Options {
    var entries = 100_000
    var batch = 64
    var seed: UInt64 = 1
    var size = 16
    var simSeeds: Int?
    var simStart: UInt64 = 0
    var simTrace = false
}

func usage() -> Never {
    print("usage: raftbench [--entries N] [--batch B] [--seed S] [--size BYTES] | --sim-seeds N [--sim-start S]")
    exit(2)
}

func number<T: LosslessStringConvertible>(_ text: String) -> T {
    guard let n = T(text) else { usage() }
    return n
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var i = 0
    func value() -> String {
        i += 1
        guard i < arguments.count else { usage() }
        return arguments[i]
    }
    while i < arguments.count {
        switch arguments[i] {
        case "--entries": options.entries = number(value())
        case "--batch": options.batch = number(value())
        case "--seed": options.seed = number(value())
        case "--size": options.size = number(value())
        case "--sim-seeds": options.simSeeds = number(value())
        case "--sim-start": options.simStart = number(value())
        case "--sim-trace": options.simTrace = true
        case "-h", "--help": usage()
        default: usage()
        }
        i += 1
    }
    if options.entries <= 0 || options.batch <= 0 || options.size < 0 { usage() }
    return options
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
let clock = ContinuousClock()

if let count = options.simSeeds {
    var failures: [(UInt64, String)] = []
    let start = clock.now
    for seed in options.simStart..<(options.simStart + UInt64(count)) {
        var simOptions = SimulationOptions.standard(seed: seed)
        simOptions.recordEvents = options.simTrace
        let result = Simulator.run(seed: seed, options: simOptions)
        if options.simTrace { print(result.events.joined(separator: "\n")) }
        if let violation = result.violation {
            failures.append((seed, violation.description))
            print("RAFT_SEED=\(seed) \(violation)")
        }
    }
    let elapsed = start.duration(to: clock.now)
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print("seeds: \(count) failures: \(failures.count) first: \(failures.first.map { String($0.0) } ?? "-")")
    print("time: \(seconds) s, seeds/s: \(Double(count) / seconds)")
    exit(failures.isEmpty ? 0 : 1)
}

var random = SimulationRandom(seed: options.seed)
let cluster = LocalCluster(count: 3) { config in
    config.maxSizePerMessage = 1 << 20
    config.maxInflightMessages = 256
}
cluster.elect(1)
cluster.resetCounters()
let leader = cluster[1]
let startIndex = leader.committedIndex
var proposed = 0
let start = clock.now
while proposed < options.entries {
    let n = min(options.batch, options.entries - proposed)
    let batch = (0..<n).map { _ in (0..<options.size).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    do {
        try leader.propose(batch: batch)
    } catch {
        print("proposal failed: \(error)")
        exit(1)
    }
    proposed += n
    cluster.stabilize()
}
let elapsed = start.duration(to: clock.now)
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let committed = Int(leader.committedIndex - startIndex)
print("entries committed: \(committed) in \(seconds) s")
print("entries/s: \(Int(Double(committed) / seconds))")
print("messages: \(cluster.messagesSent), messages/entry: \(Double(cluster.messagesSent) / Double(committed))")
print("batch: \(options.batch), entry size: \(options.size) bytes, seed: \(options.seed)")
