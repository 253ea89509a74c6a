// swift-tools-version: 6.0
//
// The toolkit of a distributed, transactional key-value store (see README.md).
// Library targets keep one concern each; executables only parse arguments and wire libraries together.

import PackageDescription

let package = Package(
    name: "kvstore",
    platforms: [.macOS(.v15)],  // Synchronization.Mutex and Atomic; Linux is the platform this is built and tested on
    products: [
        .executable(name: "kvnode", targets: ["kvnode"]),
        .executable(name: "kvctl", targets: ["kvctl"]),
        .executable(name: "kvdump", targets: ["kvdump"]),
        .executable(name: "kvbench", targets: ["kvbench"]),
        .executable(name: "kvsched", targets: ["kvsched"]),
        .library(name: "KVClient", targets: ["KVClient"]),
        .library(name: "KVProtocol", targets: ["KVProtocol"]),
        .library(name: "KVCommandLine", targets: ["KVCommandLine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Debian's liblmdb-dev through pkg-config.
        .systemLibrary(name: "CLMDB", pkgConfig: "lmdb", providers: [.apt(["liblmdb-dev"])]),
        // LMDB environment, column families, batches, snapshots, iterators.
        .target(name: "KVEngine", dependencies: ["CLMDB"]),
        // The line protocol: escaping, requests, responses, framing.
        .target(
            name: "KVProtocol",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        // MVCC over the one ordered key space: the transactional key encoding, lock and write records, reads
        // at a timestamp, Percolator's commands, the timestamp oracle's arithmetic.
        .target(name: "Txn", dependencies: ["KVProtocol"]),
        // Client side of the line protocol: blocking connections for tools and scripts, the 2PC coordinator.
        .target(name: "KVClient", dependencies: ["KVProtocol", "Txn"]),
        // A process's network front end: connections, pipelining, back-pressure; serves a NodeService.
        .target(
            name: "KVServer",
            dependencies: [
                "KVProtocol",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Multi-Raft on one node: region peers over the log engine, the store loop (one log sync per round),
        // apply into LMDB through unflushed layers, the standalone node as one region with one voter.
        .target(
            name: "RaftStore",
            dependencies: [
                "Raft", "LogEngine", "KVEngine", "KVProtocol", "KVServer", "KVClient", "Txn",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // kvsched's core: cluster bootstrap, ids, timestamp oracle, store and region heartbeats, the region map,
        // the replica checker; persisted in its own LMDB environment.
        .target(
            name: "Scheduler",
            dependencies: [
                "KVEngine", "KVProtocol", "KVServer", "Txn",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "kvsched",
            dependencies: [
                "Scheduler", "KVServer", "KVProtocol", "KVCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Command-line options shared by the executables.
        .target(
            name: "KVCommandLine",
            dependencies: [
                "KVClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kvnode",
            dependencies: [
                "KVServer", "RaftStore", "KVCommandLine", "KVClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "kvctl",
            dependencies: [
                "KVClient", "KVProtocol", "KVCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kvdump",
            dependencies: [
                "KVEngine", "KVProtocol", "KVCommandLine", "LogEngine", "RaftStore", "Raft", "Scheduler", "Txn",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // A linearizability checker for histories of a key-value store (per-key registers, Wing-Gong search).
        .target(name: "Linearizability"),
        .testTarget(name: "LinearizabilityTests", dependencies: ["Linearizability"]),
        // Workloads, key choosers, store drivers (kvnode, Redis, etcd), the runner and its reports.
        .target(
            name: "KVBench",
            dependencies: [
                "KVClient", "KVProtocol", "KVCommandLine", "Linearizability",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "kvbench",
            dependencies: [
                "KVBench", "KVClient", "KVProtocol", "KVCommandLine", "Linearizability",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // In-process engine throughput (see README's performance section).
        .executableTarget(name: "enginebench", dependencies: ["KVEngine"]),
        // The Raft algorithm as a pure, deterministic state machine (no dependencies at all).
        .target(name: "Raft"),
        // The node's append-only log of Raft entries and hard states for every region: preallocated segments,
        // checksummed records, one fdatasync per batch, compaction and crash recovery.
        .target(name: "LogEngine", dependencies: ["Raft"]),
        // Seeded fault-injecting cluster simulator and safety checker for Raft (test support, and raftbench).
        .target(name: "RaftSimulation", dependencies: ["Raft"]),
        // The raftstore's own cost per write, without the network (see README's performance section).
        .executableTarget(name: "storebench", dependencies: ["RaftStore", "KVServer", "KVProtocol"]),
        // Raft micro-benchmark and simulator seed sweeper.
        .executableTarget(name: "raftbench", dependencies: ["Raft", "RaftSimulation"]),
        // Helpers shared by test targets: temporary directories, child processes, built binaries.
        .target(name: "KVTestSupport", dependencies: ["KVClient", "LogEngine"]),
        .testTarget(name: "KVBenchTests", dependencies: ["KVBench", "kvbench", "KVProtocol", "KVCommandLine"]),
        .testTarget(name: "RaftTests", dependencies: ["Raft", "RaftSimulation", "KVTestSupport"]),
        .testTarget(name: "KVEngineTests", dependencies: ["KVEngine", "KVTestSupport"]),
        .testTarget(name: "LogEngineTests", dependencies: ["LogEngine", "Raft", "KVTestSupport"]),
        .testTarget(
            name: "RaftStoreTests",
            dependencies: ["RaftStore", "KVServer", "KVProtocol", "KVEngine", "LogEngine", "KVTestSupport"]
        ),
        .testTarget(
            name: "KVProtocolTests",
            dependencies: ["KVProtocol", "KVTestSupport", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "KVServerTests",
            dependencies: ["KVServer", "RaftStore", "KVClient", "KVProtocol", "KVTestSupport"]
        ),
        .testTarget(
            name: "KVClusterTests",
            dependencies: ["KVClient", "KVProtocol", "KVTestSupport", "Txn", "kvnode", "kvsched", "kvctl", "kvbench"]
        ),
        .testTarget(name: "SchedulerTests", dependencies: ["Scheduler", "KVProtocol", "KVTestSupport", "Txn"]),
        .testTarget(name: "TxnTests", dependencies: ["Txn", "KVProtocol", "KVEngine", "KVClient", "KVTestSupport"]),
        .testTarget(
            name: "KVToolsTests",
            dependencies: ["KVClient", "KVProtocol", "KVTestSupport", "kvnode", "kvctl", "kvdump", "kvsched"]
        ),
    ]
)
