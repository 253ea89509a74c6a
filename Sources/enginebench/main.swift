// enginebench: in-process throughput of the LMDB engine (KVEngine), without the network.
//
//   swift run -c release enginebench [--keys N] [--value-size B] [--dir PATH]
//
// Prints one line per measurement. It writes into a fresh temporary directory (or --dir) and removes it.

import Foundation
import KVEngine

struct Options {
    var keys = 100_000
    var valueSize = 16
    var directory: String?

    init(_ arguments: [String]) {
        var index = 0
        while index < arguments.count {
            let value = index + 1 < arguments.count ? arguments[index + 1] : ""
            switch arguments[index] {
            case "--keys": keys = Int(value) ?? keys
            case "--value-size": valueSize = Int(value) ?? valueSize
            case "--dir": directory = value
            default:
                FileHandle.standardError.write("usage: enginebench [--keys N] [--value-size B] [--dir PATH]\n".data(using: .utf8)!)
                exit(2)
            }
            index += 2
        }
    }
}

func key(_ i: Int) -> [UInt8] { Array("key-\(String(format: "%09d", i))".utf8) }

func measure(_ label: String, operations: Int, _ body: () throws -> Void) rethrows {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let rate = Double(operations) / seconds
    let padded = label.padding(toLength: 52, withPad: " ", startingAt: 0)
    print(padded + String(format: "%11.0f ops/s  (%d ops in %.3f s)", rate, operations, seconds))
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
let directory = options.directory ?? NSTemporaryDirectory() + "/enginebench-\(getpid())"
defer { if options.directory == nil { try? FileManager.default.removeItem(atPath: directory) } }
let environment = try Environment(path: directory)
let value = [UInt8](repeating: 0x5A, count: options.valueSize)
let keys = (0..<options.keys).map(key)
var generator = SystemRandomNumberGenerator()
let randomOrder = keys.indices.shuffled(using: &generator)

print("enginebench: \(options.keys) keys, \(options.valueSize)-byte values, LMDB in \(directory)")
try measure("put, all in one write transaction", operations: keys.count) {
    try environment.write { txn in
        for key in keys { try txn.put(value, for: key) }
    }
}
try measure("put, 1000 per durable commit (group commit)", operations: keys.count) {
    for start in stride(from: 0, to: keys.count, by: 1_000) {
        try environment.write { txn in
            for key in keys[start..<min(start + 1_000, keys.count)] { try txn.put(value, for: key) }
        }
    }
}
let singles = min(2_000, keys.count)
try measure("put, one durable commit (fsync) each", operations: singles) {
    for key in keys.prefix(singles) {
        try environment.write { txn in try txn.put(value, for: key) }
    }
}
try measure("get (random order), all in one read transaction", operations: keys.count) {
    try environment.read { txn in
        for index in randomOrder where try txn.get(keys[index]) == nil { fatalError("missing key") }
    }
}
try measure("get (random order), one read transaction each", operations: keys.count) {
    for index in randomOrder where try environment.read({ txn in try txn.get(keys[index]) }) == nil {
        fatalError("missing key")
    }
}
try measure("scan, forward over every key", operations: keys.count) {
    var count = 0
    try environment.read { txn in
        try txn.forEach { _, _ in
            count += 1
            return true
        }
    }
    precondition(count == keys.count)
}
environment.close()
